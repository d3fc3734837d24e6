// collect()'s semantics tests (test/frame/collect.test.ts) once more with the row-by-row
// reference executor as the default, now that the Processor is collect()'s default: the
// reference the Processor is compared against must itself stay tested.
import { registerExecutor } from "../../src/executor/select.ts";
import { RowByRowExecutor } from "../../src/executor/row-by-row.ts";
import "../frame/collect.test.ts";

// Runs after the import above has made the Processor the default and before uvu starts the
// imported file's tests (it starts them on a timer).
registerExecutor("row-by-row", () => new RowByRowExecutor(), true);
