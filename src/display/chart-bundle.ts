// A vega-lite chart as a Jupyter mime bundle that renders everywhere:
// - application/vnd.vegalite.v5+json: JupyterLab renders it interactively (v5 specs only);
// - image/svg+xml: rendered here by vega, for frontends without vega;
// - text/html with the SVG inline: classic notebook 6 prefers html and knows no vega-lite, and
//   nbconvert 6.5's HTML export empties image/svg+xml outputs;
// - text/plain: terminals and logs.
import * as vega from "vega";
import * as vl from "vega-lite";
import type { TopLevelSpec } from "vega-lite";
import type { MimeBundle } from "./host.ts";
import { escapeHtml } from "./html.ts";
import { nextSvgIdPrefix, prefixSvgIds } from "./svg-ids.ts";

export const VEGA_LITE_MIME = "application/vnd.vegalite.v5+json";
export const VEGA_LITE_SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json";

/** A vega-lite 5 specification as plain JSON. */
export type VegaLiteSpec = Record<string, unknown>;

export interface RenderedChart {
  svg: string;
  /** Warnings vega-lite or vega emitted (dropped encodings, bad fields): tests assert none. */
  warnings: string[];
}

/** Returns the spec with `$schema` set to vega-lite 5; rejects anything that is not v5. */
export function normalizeSpec(spec: VegaLiteSpec): VegaLiteSpec {
  if (spec === null || typeof spec !== "object" || Array.isArray(spec)) {
    throw new TypeError(
      `chartBundle: expected a vega-lite spec object, got ${Array.isArray(spec) ? "an array" : typeof spec}`,
    );
  }
  const schema = spec["$schema"];
  if (schema !== undefined && !(typeof schema === "string" && /vega-lite\/v5/.test(schema))) {
    throw new TypeError(
      `chartBundle: $schema ${JSON.stringify(schema)} is not vega-lite 5; frontends render ` +
        `${VEGA_LITE_MIME} with vega-lite 5, so write a v5 spec (or omit $schema)`,
    );
  }
  return { $schema: VEGA_LITE_SCHEMA, ...spec };
}

function collectingLogger(warnings: string[]) {
  let level = vega.Warn;
  const push = (...args: unknown[]) => {
    warnings.push(args.map(String).join(" "));
  };
  const logger = {
    level(l?: number) {
      if (l === undefined) return level;
      level = l;
      return logger;
    },
    error(...args: unknown[]) {
      push(...args);
      return logger;
    },
    warn(...args: unknown[]) {
      push(...args);
      return logger;
    },
    info() {
      return logger;
    },
    debug() {
      return logger;
    },
  };
  return logger;
}

/** Renders a vega-lite spec to an SVG string in-process (no browser, no canvas). */
export async function renderChartSvg(spec: VegaLiteSpec): Promise<RenderedChart> {
  const warnings: string[] = [];
  const logger = collectingLogger(warnings);
  let compiled: ReturnType<typeof vl.compile>;
  try {
    compiled = vl.compile(normalizeSpec(spec) as unknown as TopLevelSpec, {
      logger: logger as never,
    });
  } catch (e) {
    if (e instanceof TypeError && /^chartBundle:/.test(e.message)) throw e;
    throw new Error(
      `chartBundle: vega-lite could not compile the spec: ${(e as Error).message} ` +
        "(check field names, types and mark against https://vega.github.io/vega-lite/docs/)",
    );
  }
  const view = new vega.View(vega.parse(compiled.spec), {
    renderer: "none",
    logger: logger as never,
  });
  try {
    const svg = await view.toSVG();
    return { svg: prefixSvgIds(svg, nextSvgIdPrefix()), warnings };
  } finally {
    view.finalize();
  }
}

function titleOf(spec: VegaLiteSpec): string | undefined {
  const t = spec["title"];
  if (typeof t === "string") return t;
  if (t && typeof t === "object" && "text" in t) {
    const text = (t as { text: unknown }).text;
    return Array.isArray(text) ? text.join(" ") : String(text);
  }
  return undefined;
}

export interface ChartBundleOptions {
  /** text/plain content; defaults to the spec's title. */
  text?: string;
}

/** The four-way bundle for one chart (see the file comment for why each part is there). */
export async function chartBundle(
  spec: VegaLiteSpec,
  options: ChartBundleOptions = {},
): Promise<MimeBundle> {
  const full = normalizeSpec(spec);
  const { svg } = await renderChartSvg(full);
  const text = options.text ?? titleOf(full) ?? "vega-lite chart";
  return {
    [VEGA_LITE_MIME]: full,
    "image/svg+xml": svg,
    "text/html": `<div class="halo-chart" title="${escapeHtml(text.split("\n")[0]!)}">${svg}</div>`,
    "text/plain": text,
  };
}
