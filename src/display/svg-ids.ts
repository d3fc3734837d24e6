// Several SVGs inlined in one HTML page share one id namespace: vega names its clip paths
// "clip1", "clip2"... in every chart, so the second chart's `url(#clip1)` would resolve to the
// first chart's clip rectangle and cut its marks. Prefixing every id per rendering avoids that.

let counter = 0;

/** A prefix unique within this process (and unlikely to clash across kernels). */
export function nextSvgIdPrefix(): string {
  counter += 1;
  return `halo${process.pid.toString(36)}x${counter.toString(36)}-`;
}

/** Rewrites `id="x"` and its references (`url(#x)`, `href="#x"`) to `prefix + x`. */
export function prefixSvgIds(svg: string, prefix: string): string {
  const ids = new Set<string>();
  for (const m of svg.matchAll(/\sid="([^"]+)"/g)) ids.add(m[1]!);
  if (ids.size === 0) return svg;
  return svg
    .replace(/(\sid=")([^"]+)(")/g, (_, a: string, id: string, b: string) => a + prefix + id + b)
    .replace(/url\(#([^)]+)\)/g, (whole, id: string) =>
      ids.has(id) ? `url(#${prefix}${id})` : whole,
    )
    .replace(/(href=")#([^"]+)(")/g, (whole, a: string, id: string, b: string) =>
      ids.has(id) ? `${a}#${prefix}${id}${b}` : whole,
    );
}
