// Query inputs per workload, drawn from small domains so tool calls repeat across queries as in
// the paper. The knob `repeatRate` is the share of queries whose tool parameters (the "key":
// keyword+genre+decade, term+category, nation+segment+year+shipmode) repeat an earlier query's;
// the question's wording still varies (several phrasings), so LLM prompts repeat less often
// than tool calls, as with real users.
import { Rng } from "../data/prng.ts";
import { MARKET_SEGMENTS, SHIP_MODES, TPCH_NATIONS } from "../data/tpch.ts";
import { CATEGORY_TOPICS, GENRES, TITLE_NOUNS } from "../data/words.ts";
import type { DatasetName } from "../data/index.ts";
import type { WorkflowShape } from "./types.ts";

export type InputRow = Record<string, string | number>;

export interface InputOptions {
  /** Number of queries (rows). */
  queries: number;
  seed?: number;
  /** 0..1, default 0.5: share of queries whose tool parameters repeat an earlier query's. */
  repeatRate?: number;
}

export interface GeneratedInputs {
  rows: InputRow[];
  /** Share of queries whose key was seen before (the knob's realised value). */
  realizedRepeatRate: number;
  distinctKeys: number;
}

type Key = Record<string, string | number>;
interface Domain {
  drawKey(rng: Rng): Key;
  /** Row for a key; `variant` picks the phrasing. */
  render(key: Key, variant: number): InputRow;
}

const DECADES = [1950, 1960, 1970, 1980, 1990, 2000, 2010, 2020];
const MOVIE_PHRASES = [
  (k: Key) => `Which ${k.genre} movies about a ${k.keyword} came out in the ${k.decade}s?`,
  (k: Key) => `Find ${k.genre} films with a ${k.keyword} from the ${k.decade}s.`,
  (k: Key) => `I want a ${k.decade}s ${k.genre} movie about a ${k.keyword}. What should I watch?`,
];
const LEXICON_PHRASES = [
  (k: Key) => `What does the encyclopedia say about the ${k.term} in ${k.category}?`,
  (k: Key) => `Explain the ${k.term} (${k.category}) in a sentence.`,
  (k: Key) => `Give me an overview of ${k.term} from the ${k.category} articles.`,
];
const TPCH_PHRASES = [
  (k: Key) =>
    `Prepare a report for nation ${k.nation} in segment ${k.segment} during ${k.year} shipped by ${k.shipmode}.`,
  (k: Key) =>
    `Summarise business for nation ${k.nation} in segment ${k.segment} during ${k.year} shipped by ${k.shipmode}.`,
  (k: Key) =>
    `How did we do with nation ${k.nation} in segment ${k.segment} during ${k.year} shipped by ${k.shipmode}?`,
];

const DOMAINS: Record<DatasetName, Domain> = {
  imdb: {
    drawKey: (rng) => ({
      keyword: rng.pick(TITLE_NOUNS),
      genre: rng.pick(GENRES),
      decade: rng.pick(DECADES),
    }),
    render: (k, v) => ({
      question: MOVIE_PHRASES[v % MOVIE_PHRASES.length]!(k),
      genre: k.genre!,
      decade: k.decade!,
    }),
  },
  articles: {
    drawKey: (rng) => {
      const category = rng.pick(Object.keys(CATEGORY_TOPICS));
      return { term: rng.pick(CATEGORY_TOPICS[category]!), category };
    },
    render: (k, v) => ({
      question: LEXICON_PHRASES[v % LEXICON_PHRASES.length]!(k),
      term: k.term!,
      category: k.category!,
    }),
  },
  tpch: {
    drawKey: (rng) => ({
      nation: rng.pick(TPCH_NATIONS)[0],
      segment: rng.pick(MARKET_SEGMENTS),
      year: rng.int(1993, 1997),
      shipmode: rng.pick(SHIP_MODES),
    }),
    render: (k, v) => ({
      request: TPCH_PHRASES[v % TPCH_PHRASES.length]!(k),
      segment: k.segment!,
      year: k.year!,
      shipmode: k.shipmode!,
    }),
  },
};

export function generateInputs(shape: WorkflowShape, options: InputOptions): GeneratedInputs {
  const { queries } = options;
  const repeatRate = options.repeatRate ?? 0.5;
  if (!Number.isInteger(queries) || queries < 1)
    throw new Error(`queries must be a positive integer, got ${queries}`);
  if (!(repeatRate >= 0 && repeatRate <= 1))
    throw new Error(`repeatRate must be within 0..1, got ${repeatRate}`);
  const domain = DOMAINS[shape.dataset];
  const rng = new Rng(options.seed ?? 42).fork(`inputs:${shape.name}`);
  const seen: Key[] = [];
  const seenIds = new Set<string>();
  const rows: InputRow[] = [];
  let repeats = 0;
  for (let i = 0; i < queries; i++) {
    let key: Key | undefined;
    if (seen.length > 0 && rng.bool(repeatRate)) {
      // Popular keys repeat more (Zipf over first appearance), as in query logs.
      key = seen[rng.zipf(seen.length, 0.8)]!;
    } else {
      // A fresh key; the domains are small, so after many tries accept a repeat.
      for (let tries = 0; tries < 50; tries++) {
        const k = domain.drawKey(rng);
        if (!seenIds.has(JSON.stringify(k))) {
          key = k;
          break;
        }
      }
      key ??= domain.drawKey(rng);
    }
    const id = JSON.stringify(key);
    if (seenIds.has(id)) repeats++;
    else {
      seenIds.add(id);
      seen.push(key);
    }
    const row = domain.render(key, rng.int(0, 2));
    const ordered: InputRow = { qid: i };
    for (const c of shape.inputColumns) if (c !== "qid") ordered[c] = row[c]!;
    rows.push(ordered);
  }
  return { rows, realizedRepeatRate: repeats / queries, distinctKeys: seenIds.size };
}
