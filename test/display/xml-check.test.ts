// The checker the display tests rely on must itself reject broken markup.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { byClass, parseSvg, parseXml } from "./xml-check.ts";

test("accepts well-formed markup and decodes entities", () => {
  const el = parseXml(`<a x="1 &lt; 2"><b>t &amp; u</b><c/><!-- note --></a>`);
  assert.is(el.name, "a");
  assert.is(el.attrs["x"], "1 < 2");
  assert.is(el.children[0]!.text, "t & u");
  assert.is(el.children.length, 2);
});

for (const [bad, why] of [
  [`<a><b></a></b>`, /closes/],
  [`<a>1 < 2</a>`, /'<'/],
  [`<a>fish & chips</a>`, /entity/],
  [`<a x="1" x="2"/>`, /duplicate/],
  [`<a x=1/>`, /malformed attribute/],
  [`<a>`, /never closed/],
  [`<a/><b/>`, /more than one root/],
  [`<a y="&nbsp;"/>`, /entity/],
] as const) {
  test(`rejects ${bad}`, () => {
    assert.throws(() => parseXml(bad), why);
  });
}

test("parseSvg wants an svg root with namespace and size", () => {
  assert.throws(() => parseSvg(`<svg width="10" height="10"/>`), /namespace/);
  assert.throws(() => parseSvg(`<svg xmlns="http://www.w3.org/2000/svg"/>`), /width/);
  const svg = parseSvg(
    `<svg xmlns="http://www.w3.org/2000/svg" width="10" height="5"><g class="m a"><path d="M0,0"/></g></svg>`,
  );
  assert.is(byClass(svg, "m").length, 1);
});

test.run();
