// The workloads' function tools, by name: deterministic JS the `function` nodes call.

/** Parsed TPC-H request parameters. */
export interface TpchParams {
  nation: string;
  segment: string;
  year: number;
  shipmode: string;
}

const REQUEST_RE =
  /nation (?<nation>[A-Z][A-Z ]*?) in segment (?<segment>[A-Z]+) during (?<year>\d{4}) shipped by (?<shipmode>[A-Z][A-Z ]*?)(?:[.?]|$)/;

/** Regex parameter extractor of tpch-trident: the request text -> {nation, segment, year, shipmode}. */
export function extractTpchParams(request: string): TpchParams {
  const m = REQUEST_RE.exec(request);
  if (!m?.groups)
    throw new Error(
      `extract_tpch_params: the request does not match "... nation N in segment S during YYYY shipped by M.": ${JSON.stringify(request)}`,
    );
  return {
    nation: m.groups.nation!,
    segment: m.groups.segment!,
    year: Number(m.groups.year),
    shipmode: m.groups.shipmode!,
  };
}

/** tpch-trident's regex extractor: the nation named in the request text. */
export function extractNation(request: string): string {
  return extractTpchParams(request).nation;
}

export const FUNCTIONS: Record<string, (...args: never[]) => unknown> = {
  extract_tpch_params: extractTpchParams,
  extract_nation: extractNation,
};
