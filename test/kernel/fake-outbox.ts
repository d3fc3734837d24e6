// A recording Outbox for driving the handler without ZeroMQ.
import type { Channel, Header } from "../../kernel/protocol/messages.ts";
import type { WireMessage } from "../../kernel/transport/bridge-types.ts";
import type { Outbox } from "../../kernel/transport/outbox.ts";

export interface Sent {
  channel: Channel;
  type: string;
  parent: string | undefined;
  content: Record<string, unknown>;
}

export class RecordingOutbox implements Outbox {
  readonly sent: Sent[] = [];
  inputs: string[] = [];

  send(channel: Channel, m: WireMessage): void {
    this.sent.push({
      channel,
      type: m.header.msg_type,
      parent: m.parent_header.msg_id,
      content: m.content,
    });
  }
  stream(parent: Partial<Header>, name: "stdout" | "stderr", text: string): void {
    const last = this.sent[this.sent.length - 1];
    if (
      last &&
      last.type === "stream" &&
      last.parent === parent.msg_id &&
      last.content.name === name
    )
      last.content.text += text;
    else
      this.sent.push({
        channel: "iopub",
        type: "stream",
        parent: parent.msg_id,
        content: { name, text },
      });
  }
  readInput(sendRequest: () => void): { value: string } | undefined {
    sendRequest();
    const v = this.inputs.shift();
    return v === undefined ? undefined : { value: v };
  }
  for(msgId: string): Sent[] {
    return this.sent.filter((s) => s.parent === msgId);
  }
}
