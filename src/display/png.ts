// SVG -> PNG for reports (no browser, no canvas: `canvas` does not install here). resvg draws
// text only with fonts it can find: load the system fonts and map the generic families vega and
// the plan drawing use to DejaVu, which Debian installs (resvg's own default is Arial, absent).
import { Resvg } from "@resvg/resvg-js";

export interface PngOptions {
  /** Pixel density multiplier; 2 gives crisp text in reports. */
  scale?: number;
  /** Background colour; vega already paints a white background. */
  background?: string;
}

export function pngFromSvg(svg: string, options: PngOptions = {}): Buffer {
  if (typeof svg !== "string" || !svg.includes("<svg")) {
    throw new TypeError("pngFromSvg: expected an SVG document string (starting with <svg ...>)");
  }
  const resvg = new Resvg(svg, {
    fitTo: { mode: "zoom", value: options.scale ?? 2 },
    background: options.background ?? "white",
    font: {
      loadSystemFonts: true,
      defaultFontFamily: "DejaVu Sans",
      sansSerifFamily: "DejaVu Sans",
      serifFamily: "DejaVu Serif",
      monospaceFamily: "DejaVu Sans Mono",
    },
    logLevel: "off",
  });
  return resvg.render().asPng();
}
