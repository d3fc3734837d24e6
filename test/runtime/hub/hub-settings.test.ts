import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { hubSettings, isHubId, parseHubId } from "../../../src/runtime/hub/index.ts";

test("defaults follow huggingface_hub: the public hub, ~/.cache/huggingface/hub, online", () => {
  const s = hubSettings({});
  assert.is(s.endpoint, "https://huggingface.co");
  assert.is(s.cacheDir, join(homedir(), ".cache", "huggingface", "hub"));
  assert.is(s.offline, false);
});

test("HF_ENDPOINT, HF_HOME, HF_HUB_CACHE, HF_HUB_OFFLINE and the token sources", () => {
  const home = mkdtempSync(join(tmpdir(), "halo-hf-home-"));
  try {
    writeFileSync(join(home, "token"), "hf_from_file\n");
    const s = hubSettings({
      HF_HOME: home,
      HF_ENDPOINT: "http://127.0.0.1:1234/",
      HF_HUB_OFFLINE: "TRUE",
    });
    assert.is(s.endpoint, "http://127.0.0.1:1234");
    assert.is(s.cacheDir, join(home, "hub"));
    assert.is(s.token, "hf_from_file");
    assert.ok(s.offline);
    assert.is(hubSettings({ HF_HOME: home, HF_TOKEN: "hf_env" }).token, "hf_env");
    const other = join(home, "other-token");
    writeFileSync(other, "hf_path");
    assert.is(hubSettings({ HF_HOME: home, HF_TOKEN_PATH: other }).token, "hf_path");
    assert.is(hubSettings({ HF_HOME: home, HF_HUB_CACHE: "/x/hub" }).cacheDir, "/x/hub");
    assert.is(hubSettings({ XDG_CACHE_HOME: "/xdg" }).cacheDir, "/xdg/huggingface/hub");
    assert.is(hubSettings({ HF_HUB_OFFLINE: "0" }).offline, false);
    assert.is(hubSettings({ HF_HOME: join(home, "none") }).token, undefined);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

test("hub ids follow huggingface_hub's rules", () => {
  assert.equal(parseHubId("onnx-community/Qwen2.5-0.5B-Instruct"), {
    org: "onnx-community",
    name: "Qwen2.5-0.5B-Instruct",
  });
  for (const bad of [
    "gpt2",
    "a/b/c",
    "./a",
    "a/..",
    "/abs/path",
    "a--b/c",
    "a/-b",
    "a/b.git",
    "a/b c",
    "",
  ])
    assert.not.ok(isHubId(bad), bad);
});

test.run();
