// An encyclopedia-like dataset (the lexicon workloads): articles with text for full-text-ish
// search (ILIKE / regexp_matches: built into DuckDB, no extension download), a category tree, a
// link graph, and a second partition in another language ("de", a fixed pseudo-translation of
// the English text) reached through langlinks, for the language bridge.
import { Rng } from "./prng.ts";
import { chunkColumns } from "./table.ts";
import type { Dataset, TableSpec } from "./table.ts";
import { CATEGORY_TOPICS, FILLER_WORDS, pseudoTranslate } from "./words.ts";

export interface ArticlesOptions {
  seed?: number;
  /** 1 = 3,000 English articles. */
  scale?: number;
}

const ARTICLES_PER_SCALE = 3000;
const LINKS_PER_ARTICLE = 3;
/** Share of English articles that have a "de" counterpart. */
const TRANSLATED_SHARE = 0.6;
const SUBCATEGORIES_PER_CATEGORY = 2;

export const CATEGORY_NAMES = Object.keys(CATEGORY_TOPICS);
const cap = (w: string) => w[0]!.toUpperCase() + w.slice(1);

function sentence(rng: Rng, topic: readonly string[], title: string): string {
  const a = rng.pick(topic);
  const b = rng.pick(topic);
  const f = () => rng.pick(FILLER_WORDS);
  switch (rng.int(0, 3)) {
    case 0:
      return `${title} ${f()} the ${a} ${f()} ${b}.`;
    case 1:
      return `The ${a} ${f()} ${f()} ${b} is ${f()} in ${title}.`;
    case 2:
      return `Several ${a} studies describe the ${b} ${f()} ${a}.`;
    default:
      return `${cap(a)} and ${b} are ${f()} ${f()} topics.`;
  }
}

export function generateArticles(options: ArticlesOptions = {}): Dataset {
  const seed = options.seed ?? 42;
  const scale = options.scale ?? 1;
  if (!(scale > 0)) throw new Error(`articles scale must be > 0, got ${scale}`);
  const root = new Rng(seed).fork("articles");
  const numArticles = Math.max(20, Math.round(ARTICLES_PER_SCALE * scale));

  // categories: roots 1..12, then subcategories named "<root>/<topic word>".
  const cat = {
    id: [] as number[],
    name: [] as string[],
    parent: [] as (number | null)[],
    description: [] as string[],
  };
  let rng = root.fork("categories");
  const rootIdOf = new Map<string, number>();
  CATEGORY_NAMES.forEach((name, i) => {
    rootIdOf.set(name, i + 1);
    cat.id.push(i + 1);
    cat.name.push(name);
    cat.parent.push(null);
    cat.description.push(
      `Articles about ${CATEGORY_TOPICS[name]!.slice(0, 3).join(", ")} and more.`,
    );
  });
  const subsOf = new Map<number, number[]>();
  for (const name of CATEGORY_NAMES) {
    const parent = rootIdOf.get(name)!;
    for (const word of rng.sample(CATEGORY_TOPICS[name]!, SUBCATEGORIES_PER_CATEGORY)) {
      const id = cat.id.length + 1;
      cat.id.push(id);
      cat.name.push(`${name}/${word}`);
      cat.parent.push(parent);
      cat.description.push(`Articles about the ${word} in ${name}.`);
      subsOf.set(parent, [...(subsOf.get(parent) ?? []), id]);
    }
  }

  // articles (English partition)
  rng = root.fork("articles");
  const art = {
    id: [] as number[],
    title: [] as string[],
    body: [] as string[],
    category: [] as number[],
    language: [] as string[],
    year: [] as number[],
  };
  const rootOfArticle: number[] = [];
  const seenTitles = new Map<string, number>();
  for (let i = 0; i < numArticles; i++) {
    const catName = CATEGORY_NAMES[rng.zipf(CATEGORY_NAMES.length, 0.6)]!;
    const rootId = rootIdOf.get(catName)!;
    const topic = CATEGORY_TOPICS[catName]!;
    let title = `${cap(rng.pick(topic))} ${rng.pick(["theory", "history", "of " + rng.pick(topic), "systems", "in practice"])}`;
    const n = (seenTitles.get(title) ?? 0) + 1;
    seenTitles.set(title, n);
    if (n > 1) title = `${title} (${n})`;
    const sentences = Array.from({ length: rng.int(3, 6) }, () => sentence(rng, topic, title));
    art.id.push(i + 1);
    art.title.push(title);
    art.body.push(sentences.join(" "));
    art.category.push(rng.bool(0.5) ? rootId : rng.pick(subsOf.get(rootId)!));
    art.language.push("en");
    art.year.push(rng.int(2001, 2024));
    rootOfArticle.push(rootId);
  }

  // articles_de: the second partition, pseudo-translated, with its own ids.
  rng = root.fork("articles_de");
  const de = {
    id: [] as number[],
    title: [] as string[],
    body: [] as string[],
    category: [] as number[],
    language: [] as string[],
    year: [] as number[],
  };
  const ll = { articleId: [] as number[], lang: [] as string[], targetId: [] as number[] };
  const translate = (text: string) => text.replace(/[A-Za-z]+/g, (w) => pseudoTranslate(w));
  for (let i = 0; i < numArticles; i++) {
    if (!rng.bool(TRANSLATED_SHARE)) continue;
    const id = 100_000 + de.id.length + 1;
    de.id.push(id);
    de.title.push(translate(art.title[i]!));
    de.body.push(translate(art.body[i]!));
    de.category.push(art.category[i]!);
    de.language.push("de");
    de.year.push(art.year[i]! + rng.int(0, 2));
    ll.articleId.push(art.id[i]!);
    ll.lang.push("de");
    ll.targetId.push(id);
  }

  // links: mostly within the same root category (a topical link graph).
  rng = root.fork("links");
  const byRoot = new Map<number, number[]>();
  rootOfArticle.forEach((r, i) => byRoot.set(r, [...(byRoot.get(r) ?? []), i]));
  const lk = { src: [] as number[], dst: [] as number[], anchor: [] as string[] };
  for (let i = 0; i < numArticles; i++) {
    const targets = new Set<number>();
    const same = byRoot.get(rootOfArticle[i]!)!;
    while (targets.size < LINKS_PER_ARTICLE) {
      const j = rng.bool(0.7) && same.length > 1 ? rng.pick(same) : rng.int(0, numArticles - 1);
      if (j !== i) targets.add(j);
    }
    for (const j of targets) {
      lk.src.push(art.id[i]!);
      lk.dst.push(art.id[j]!);
      lk.anchor.push(art.title[j]!.toLowerCase());
    }
  }

  const articleColumns: TableSpec["columns"] = [
    { name: "article_id", type: "INTEGER" },
    { name: "title", type: "VARCHAR" },
    { name: "body", type: "VARCHAR" },
    { name: "category_id", type: "INTEGER" },
    { name: "language", type: "VARCHAR" },
    { name: "published_year", type: "INTEGER" },
  ];
  const catFk = { columns: ["category_id"], table: "categories", refColumns: ["category_id"] };
  const tables: TableSpec[] = [
    {
      name: "categories",
      columns: [
        { name: "category_id", type: "INTEGER" },
        { name: "name", type: "VARCHAR" },
        { name: "parent_id", type: "INTEGER", nullable: true },
        { name: "description", type: "VARCHAR" },
      ],
      primaryKey: ["category_id"],
      foreignKeys: [{ columns: ["parent_id"], table: "categories", refColumns: ["category_id"] }],
      rows: cat.id.length,
      chunks: () => chunkColumns([cat.id, cat.name, cat.parent, cat.description]),
    },
    {
      name: "articles",
      columns: articleColumns,
      primaryKey: ["article_id"],
      foreignKeys: [catFk],
      rows: numArticles,
      chunks: () =>
        chunkColumns([art.id, art.title, art.body, art.category, art.language, art.year]),
    },
    {
      name: "articles_de",
      columns: articleColumns,
      primaryKey: ["article_id"],
      foreignKeys: [catFk],
      rows: de.id.length,
      chunks: () => chunkColumns([de.id, de.title, de.body, de.category, de.language, de.year]),
    },
    {
      name: "langlinks",
      columns: [
        { name: "article_id", type: "INTEGER" },
        { name: "lang", type: "VARCHAR" },
        { name: "target_id", type: "INTEGER" },
      ],
      primaryKey: ["article_id", "lang"],
      foreignKeys: [
        { columns: ["article_id"], table: "articles", refColumns: ["article_id"] },
        { columns: ["target_id"], table: "articles_de", refColumns: ["article_id"] },
      ],
      rows: ll.articleId.length,
      chunks: () => chunkColumns([ll.articleId, ll.lang, ll.targetId]),
    },
    {
      name: "links",
      columns: [
        { name: "src_id", type: "INTEGER" },
        { name: "dst_id", type: "INTEGER" },
        { name: "anchor", type: "VARCHAR" },
      ],
      primaryKey: ["src_id", "dst_id"],
      foreignKeys: [
        { columns: ["src_id"], table: "articles", refColumns: ["article_id"] },
        { columns: ["dst_id"], table: "articles", refColumns: ["article_id"] },
      ],
      rows: numArticles * LINKS_PER_ARTICLE,
      chunks: () => chunkColumns([lk.src, lk.dst, lk.anchor]),
    },
  ];
  return { name: "articles", seed, scale, tables };
}
