// Calibrating against an engine over HTTP (Halo's own /v1/completions on 127.0.0.1): the profile
// is filed under the served model's name on provider "http", `halo.openai` models read it back,
// and collect()'s cost preparation picks it up for a registered remote model.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { openHttpTarget } from "../../src/cost/http-bench-target.ts";
import { getProfile } from "../../src/cost/profile-cache.ts";
import { profileFor } from "../../src/frame/cost-profiles.ts";
import { models } from "../../src/frame/models.ts";
import { OpenAiModel } from "../../src/runtime/openai-model.ts";
import { shippedModelDir } from "../../src/runtime/index.ts";
import { createCompletionsService } from "../../src/serve/completions.ts";
import { startCompletionsServer } from "../serve/helpers/completions-server.ts";

const cacheRoot = mkdtempSync(join(tmpdir(), "halo-http-cal-"));
process.env.HALO_CACHE_DIR = cacheRoot;
const dir = shippedModelDir();
const service = createCompletionsService();
const server = await startCompletionsServer(service);

test.after(async () => {
  await service.close();
  await server.close();
  rmSync(cacheRoot, { recursive: true, force: true });
});

test("calibrates an engine over HTTP and files the profile where halo.openai reads it", async () => {
  const profile = await getProfile(dir, {
    cacheDir: join(cacheRoot, "profiles"),
    refresh: true,
    openTarget: (d) => openHttpTarget({ url: `${server.url}/v1`, modelDir: d }),
    prefillGrid: [
      [1, 8, 0],
      [1, 64, 0],
      [2, 8, 128],
      [2, 64, 128],
    ],
    decodeGrid: [
      [1, 16],
      [4, 16],
      [4, 128],
    ],
    repeats: 2,
  });
  assert.is(profile.modelId, "openai-halo-tiny");
  assert.is(profile.provider, "http");
  assert.is(profile.source, "calibrated");
  assert.is(profile.samples.prefill.length, 4);
  assert.is(profile.samples.decode.length, 3);
  for (const s of [...profile.samples.prefill, ...profile.samples.decode])
    assert.ok(Number.isFinite(s.ms) && s.ms >= 0, JSON.stringify(s));
  assert.ok(profile.prefill.callMs + profile.prefill.tokenMs > 0, "prefill costs nothing");
  assert.is(profile.kvBytesPerToken, 2 * 4 * 2 * 32 * 4); // from config.json
  console.log(
    `measure: http calibration: c_call ${profile.prefill.callMs.toFixed(2)} ms, d_0 ${profile.decode.stepMs.toFixed(2)} ms, d_row ${profile.decode.rowMs.toFixed(3)} ms`,
  );

  const remote = new OpenAiModel({ baseUrls: server.url, tokenizer: dir });
  const read = await remote.loadProfile();
  assert.is(read?.createdAt, profile.createdAt);
  models.register("remote-calibrated", remote);
  const planned = await profileFor("remote-calibrated");
  assert.is(planned?.createdAt, profile.createdAt);

  // another served name has no profile: planning keeps the prior
  const other = new OpenAiModel({ baseUrls: server.url, tokenizer: dir, model: "other" });
  assert.is(await other.loadProfile(), undefined);
});

test("a URL that is not a completions endpoint fails at once, naming it", async () => {
  try {
    await openHttpTarget({ url: `${server.url}/nothing`, modelDir: dir });
    assert.unreachable();
  } catch (error) {
    assert.match(String(error), /nothing\/v1\/completions answered 404/);
  }
  try {
    await openHttpTarget({ url: server.url });
    assert.unreachable();
  } catch (error) {
    assert.match(String(error), /--served-model NAME/);
  }
});

test.run();
