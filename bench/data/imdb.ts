// An IMDb-like dataset (the movies workloads): the shape of IMDb's public TSV files (titles,
// ratings, people, principals, crew, alternative titles) at a few thousand titles. Titles are
// built from TITLE_ADJECTIVES x TITLE_NOUNS so the workloads' keyword searches always match.
import { Rng } from "./prng.ts";
import { chunkColumns } from "./table.ts";
import type { Dataset, TableSpec } from "./table.ts";
import {
  FIRST_NAMES,
  GENRES,
  LANGUAGES,
  LAST_NAMES,
  PROFESSIONS,
  REGIONS,
  TITLE_ADJECTIVES,
  TITLE_NOUNS,
} from "./words.ts";

export interface ImdbOptions {
  seed?: number;
  /** 1 = 5,000 titles and 4,000 people. */
  scale?: number;
}

const TITLES_PER_SCALE = 5000;
const PEOPLE_PER_SCALE = 4000;
const PRINCIPALS_PER_TITLE = 4;

const pad7 = (n: number) => String(n).padStart(7, "0");
export const tconstOf = (i: number) => `tt${pad7(i + 1)}`;
export const nconstOf = (i: number) => `nm${pad7(i + 1)}`;
const cap = (w: string) => w[0]!.toUpperCase() + w.slice(1);

function makeTitle(rng: Rng): string {
  const adj = cap(rng.pick(TITLE_ADJECTIVES));
  const noun = cap(rng.pick(TITLE_NOUNS));
  switch (rng.int(0, 3)) {
    case 0:
      return `The ${adj} ${noun}`;
    case 1:
      return `${noun} of the ${adj} ${cap(rng.pick(TITLE_NOUNS))}`;
    case 2:
      return `${adj} ${noun}`;
    default:
      return `Return to the ${noun}`;
  }
}

export function generateImdb(options: ImdbOptions = {}): Dataset {
  const seed = options.seed ?? 42;
  const scale = options.scale ?? 1;
  if (!(scale > 0)) throw new Error(`imdb scale must be > 0, got ${scale}`);
  const root = new Rng(seed).fork("imdb");
  const numTitles = Math.max(10, Math.round(TITLES_PER_SCALE * scale));
  const numPeople = Math.max(10, Math.round(PEOPLE_PER_SCALE * scale));

  // title_basics
  let rng = root.fork("title_basics");
  const tb = {
    tconst: [] as string[],
    type: [] as string[],
    primary: [] as string[],
    original: [] as string[],
    adult: [] as number[],
    year: [] as number[],
    runtime: [] as (number | null)[],
    genres: [] as string[],
  };
  for (let i = 0; i < numTitles; i++) {
    const title = makeTitle(rng);
    tb.tconst.push(tconstOf(i));
    const u = rng.next();
    tb.type.push(u < 0.8 ? "movie" : u < 0.9 ? "tvMovie" : u < 0.96 ? "short" : "tvSeries");
    tb.primary.push(title);
    tb.original.push(rng.bool(0.85) ? title : `${title} (${rng.pick(LANGUAGES)})`);
    tb.adult.push(0);
    // Skewed towards recent years, as IMDb is.
    tb.year.push(2024 - Math.floor(74 * Math.pow(rng.next(), 1.6)));
    tb.runtime.push(rng.bool(0.97) ? rng.int(70, 180) : null);
    tb.genres.push(rng.sample(GENRES, rng.int(1, 3)).sort().join(","));
  }

  // title_ratings: every title rated (so counts are exact).
  rng = root.fork("title_ratings");
  const tr = { tconst: tb.tconst, rating: [] as number[], votes: [] as number[] };
  for (let i = 0; i < numTitles; i++) {
    const r = Math.min(10, Math.max(1, 6.4 + 1.2 * rng.normal()));
    tr.rating.push(Math.round(r * 10) / 10);
    tr.votes.push(Math.floor(5 + Math.exp(rng.real(2, 13))));
  }

  // name_basics
  rng = root.fork("name_basics");
  const nb = {
    nconst: [] as string[],
    name: [] as string[],
    birth: [] as (number | null)[],
    death: [] as (number | null)[],
    prof: [] as string[],
  };
  for (let i = 0; i < numPeople; i++) {
    nb.nconst.push(nconstOf(i));
    const initial = String.fromCharCode(65 + rng.int(0, 25));
    nb.name.push(`${rng.pick(FIRST_NAMES)} ${initial}. ${rng.pick(LAST_NAMES)}`);
    const birth = rng.bool(0.9) ? rng.int(1920, 2003) : null;
    nb.birth.push(birth);
    nb.death.push(birth !== null && birth < 1950 && rng.bool(0.5) ? birth + rng.int(50, 95) : null);
    nb.prof.push(rng.sample(PROFESSIONS, rng.int(1, 2)).join(","));
  }

  // title_principals: 4 per title; popular people appear in many titles (Zipf).
  rng = root.fork("title_principals");
  const tp = {
    tconst: [] as string[],
    ordering: [] as number[],
    nconst: [] as string[],
    category: [] as string[],
    characters: [] as (string | null)[],
  };
  for (let i = 0; i < numTitles; i++) {
    const cast = new Set<number>();
    while (cast.size < PRINCIPALS_PER_TITLE) cast.add(rng.zipf(numPeople, 0.8));
    let k = 0;
    for (const p of cast) {
      tp.tconst.push(tconstOf(i));
      tp.ordering.push(++k);
      tp.nconst.push(nconstOf(p));
      const category =
        k <= 3
          ? rng.bool()
            ? "actor"
            : "actress"
          : rng.pick(["director", "composer", "producer"]);
      tp.category.push(category);
      tp.characters.push(k <= 3 ? `${rng.pick(FIRST_NAMES)} ${rng.pick(LAST_NAMES)}` : null);
    }
  }

  // title_crew: one director and one writer per title.
  rng = root.fork("title_crew");
  const tc = { tconst: tb.tconst, directors: [] as string[], writers: [] as string[] };
  for (let i = 0; i < numTitles; i++) {
    tc.directors.push(nconstOf(rng.zipf(numPeople, 0.7)));
    tc.writers.push(nconstOf(rng.int(0, numPeople - 1)));
  }

  // title_akas: 1-3 alternative titles per title (ordering 1 is the original).
  rng = root.fork("title_akas");
  const ta = {
    titleId: [] as string[],
    ordering: [] as number[],
    title: [] as string[],
    region: [] as string[],
    language: [] as string[],
    isOriginal: [] as number[],
  };
  for (let i = 0; i < numTitles; i++) {
    const n = rng.int(1, 3);
    for (let k = 1; k <= n; k++) {
      const region = k === 1 ? "US" : rng.pick(REGIONS);
      ta.titleId.push(tconstOf(i));
      ta.ordering.push(k);
      ta.title.push(k === 1 ? tb.primary[i]! : `${tb.primary[i]} [${region}]`);
      ta.region.push(region);
      ta.language.push(k === 1 ? "en" : rng.pick(LANGUAGES));
      ta.isOriginal.push(k === 1 ? 1 : 0);
    }
  }

  const tconstFk = { columns: ["tconst"], table: "title_basics", refColumns: ["tconst"] };
  const tables: TableSpec[] = [
    {
      name: "title_basics",
      columns: [
        { name: "tconst", type: "VARCHAR" },
        { name: "title_type", type: "VARCHAR" },
        { name: "primary_title", type: "VARCHAR" },
        { name: "original_title", type: "VARCHAR" },
        { name: "is_adult", type: "INTEGER" },
        { name: "start_year", type: "INTEGER" },
        { name: "runtime_minutes", type: "INTEGER", nullable: true },
        { name: "genres", type: "VARCHAR" },
      ],
      primaryKey: ["tconst"],
      foreignKeys: [],
      rows: numTitles,
      chunks: () =>
        chunkColumns([
          tb.tconst,
          tb.type,
          tb.primary,
          tb.original,
          tb.adult,
          tb.year,
          tb.runtime,
          tb.genres,
        ]),
    },
    {
      name: "title_ratings",
      columns: [
        { name: "tconst", type: "VARCHAR" },
        { name: "average_rating", type: "DOUBLE" },
        { name: "num_votes", type: "INTEGER" },
      ],
      primaryKey: ["tconst"],
      foreignKeys: [tconstFk],
      rows: numTitles,
      chunks: () => chunkColumns([tr.tconst, tr.rating, tr.votes]),
    },
    {
      name: "name_basics",
      columns: [
        { name: "nconst", type: "VARCHAR" },
        { name: "primary_name", type: "VARCHAR" },
        { name: "birth_year", type: "INTEGER", nullable: true },
        { name: "death_year", type: "INTEGER", nullable: true },
        { name: "primary_profession", type: "VARCHAR" },
      ],
      primaryKey: ["nconst"],
      foreignKeys: [],
      rows: numPeople,
      chunks: () => chunkColumns([nb.nconst, nb.name, nb.birth, nb.death, nb.prof]),
    },
    {
      name: "title_principals",
      columns: [
        { name: "tconst", type: "VARCHAR" },
        { name: "ordering", type: "INTEGER" },
        { name: "nconst", type: "VARCHAR" },
        { name: "category", type: "VARCHAR" },
        { name: "characters", type: "VARCHAR", nullable: true },
      ],
      primaryKey: ["tconst", "ordering"],
      foreignKeys: [
        tconstFk,
        { columns: ["nconst"], table: "name_basics", refColumns: ["nconst"] },
      ],
      rows: numTitles * PRINCIPALS_PER_TITLE,
      chunks: () => chunkColumns([tp.tconst, tp.ordering, tp.nconst, tp.category, tp.characters]),
    },
    {
      name: "title_crew",
      columns: [
        { name: "tconst", type: "VARCHAR" },
        { name: "directors", type: "VARCHAR" },
        { name: "writers", type: "VARCHAR" },
      ],
      primaryKey: ["tconst"],
      foreignKeys: [
        tconstFk,
        { columns: ["directors"], table: "name_basics", refColumns: ["nconst"] },
        { columns: ["writers"], table: "name_basics", refColumns: ["nconst"] },
      ],
      rows: numTitles,
      chunks: () => chunkColumns([tc.tconst, tc.directors, tc.writers]),
    },
    {
      name: "title_akas",
      columns: [
        { name: "title_id", type: "VARCHAR" },
        { name: "ordering", type: "INTEGER" },
        { name: "title", type: "VARCHAR" },
        { name: "region", type: "VARCHAR" },
        { name: "language", type: "VARCHAR" },
        { name: "is_original_title", type: "INTEGER" },
      ],
      primaryKey: ["title_id", "ordering"],
      foreignKeys: [{ columns: ["title_id"], table: "title_basics", refColumns: ["tconst"] }],
      chunks: () =>
        chunkColumns([ta.titleId, ta.ordering, ta.title, ta.region, ta.language, ta.isOriginal]),
    },
  ];
  return { name: "imdb", seed, scale, tables };
}
