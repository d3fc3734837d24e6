// Abuse of the OpenAI routes, over real HTTP on 127.0.0.1 with the openai package: answers running
// at once are bounded like workflow queries (--max-queue), so one client cannot queue unbounded
// work: a request over the whole bound is a 413, one that does not fit now a 429 with
// Retry-After; a server without a model answers its workflows only; a token is needed off
// loopback's open default.
import OpenAI from "openai";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createCompletionsService } from "../../../src/serve/completions.ts";
import { startServer, type HaloServer } from "../../../src/serve/server.ts";

const messages = [
  { role: "user" as const, content: "Recommend a gift for someone who likes tea." },
];
const servers: HaloServer[] = [];
const service = createCompletionsService({ maxAnswers: 4 });

async function serve(withModel: boolean): Promise<OpenAI> {
  const server = await startServer({
    port: 0,
    token: "q",
    log: () => {},
    ...(withModel ? { completions: async () => service } : {}),
  });
  servers.push(server);
  return new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "q", maxRetries: 0 });
}

test.after(async () => {
  for (const s of servers) await s.close(0);
});

test("answers running at once are bounded: 413 over the bound, 429 while it is full", async () => {
  const client = await serve(true);
  const fail = (status: number, message: RegExp) => (e: InstanceType<typeof OpenAI.APIError>) => {
    assert.is(e.status, status, e.message);
    assert.match(e.message, message);
    return e;
  };
  await client.chat.completions
    .create({ model: "halo-tiny", messages, max_tokens: 4, n: 5 })
    .then(
      () => assert.unreachable("5 answers passed a bound of 4"),
      fail(413, /5 answers in one request, more than this server runs at once \(4\)/),
    );
  // three answers running (held here, as a long request would hold them): three more do not fit
  const held = service.admit(3);
  const refused = await client.chat.completions
    .create({ model: "halo-tiny", messages, max_tokens: 4, n: 3 })
    .then(
      () => assert.unreachable("the bound let 6 answers run"),
      fail(429, /3 answers are running, the most this server takes is 4/),
    );
  assert.is((refused as InstanceType<typeof OpenAI.APIError>).headers?.get("retry-after"), "1");
  const one = await client.chat.completions.create({ model: "halo-tiny", messages, max_tokens: 4 });
  assert.is(one.choices.length, 1);
  held();
  const after = await client.chat.completions.create({
    model: "halo-tiny",
    messages,
    max_tokens: 4,
    n: 3,
  });
  assert.is(after.choices.length, 3);
  // every answer ended: the whole bound is free again
  service.admit(4)();
});

test("a server without a model lists only its workflows and says so on completions", async () => {
  const client = await serve(false);
  assert.equal((await client.models.list()).data, []);
  await client.chat.completions.create({ model: "halo-tiny", messages }).then(
    () => assert.unreachable(),
    (e: InstanceType<typeof OpenAI.APIError>) => {
      assert.is(e.status, 404);
      assert.is(e.code, "model_not_found");
      assert.match(e.message, /started without a model/);
    },
  );
});

test.run();
