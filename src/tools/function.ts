// The function tool: a local JS function, sync or async, called with the row's input columns
// as positional arguments.
import { abortError, type Tool } from "./types.ts";
import type { ToolFn } from "../plan/types.ts";

export interface FunctionRequest {
  fn: ToolFn;
  args: unknown[];
}

export const functionTool: Tool<FunctionRequest> = {
  kind: "function",
  async call(request, { signal }) {
    if (signal?.aborted) throw abortError(signal);
    return await request.fn(...request.args);
  },
};
