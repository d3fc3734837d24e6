// A TPC-H-schema generator in TypeScript (DuckDB's tpch extension is a download, unavailable
// here). It follows the specification's cardinalities and value rules (sparse order keys,
// partsupp supplier formula, lineitem dates and flags derived from the order date, status and
// total price derived from the lines) with our own seeded PRNG, so it is TPC-H shaped but not
// byte-identical to dbgen. Orders and lineitems are streamed: each order's lines are regenerated
// from the order's own stream (Rng.child), so scale 1 (6 M lines) never sits in memory.
import { Rng } from "./prng.ts";
import { ChunkBuilder, chunkColumns, toDays } from "./table.ts";
import type { ColumnChunk, Dataset, TableSpec } from "./table.ts";

export interface TpchOptions {
  seed?: number;
  /** TPC-H scale factor; 0.01 and up (0.01 = 15,000 orders, about 60,000 lineitems). */
  scale?: number;
}

export const TPCH_REGIONS = ["AFRICA", "AMERICA", "ASIA", "EUROPE", "MIDDLE EAST"] as const;
/** [name, regionkey], in nationkey order, as in the specification. */
export const TPCH_NATIONS: readonly [string, number][] = [
  ["ALGERIA", 0],
  ["ARGENTINA", 1],
  ["BRAZIL", 1],
  ["CANADA", 1],
  ["EGYPT", 4],
  ["ETHIOPIA", 0],
  ["FRANCE", 3],
  ["GERMANY", 3],
  ["INDIA", 2],
  ["INDONESIA", 2],
  ["IRAN", 4],
  ["IRAQ", 4],
  ["JAPAN", 2],
  ["JORDAN", 4],
  ["KENYA", 0],
  ["MOROCCO", 0],
  ["MOZAMBIQUE", 0],
  ["PERU", 1],
  ["CHINA", 2],
  ["ROMANIA", 3],
  ["SAUDI ARABIA", 4],
  ["VIETNAM", 2],
  ["RUSSIA", 3],
  ["UNITED KINGDOM", 3],
  ["UNITED STATES", 1],
];
export const MARKET_SEGMENTS = ["AUTOMOBILE", "BUILDING", "FURNITURE", "MACHINERY", "HOUSEHOLD"];
export const ORDER_PRIORITIES = ["1-URGENT", "2-HIGH", "3-MEDIUM", "4-NOT SPECIFIED", "5-LOW"];
export const SHIP_MODES = ["REG AIR", "AIR", "RAIL", "SHIP", "TRUCK", "MAIL", "FOB"];
const SHIP_INSTRUCT = ["DELIVER IN PERSON", "COLLECT COD", "NONE", "TAKE BACK RETURN"];
const TYPE_1 = ["STANDARD", "SMALL", "MEDIUM", "LARGE", "ECONOMY", "PROMO"];
const TYPE_2 = ["ANODIZED", "BURNISHED", "PLATED", "POLISHED", "BRUSHED"];
const TYPE_3 = ["TIN", "NICKEL", "BRASS", "STEEL", "COPPER"];
const CONTAINER_1 = ["SM", "LG", "MED", "JUMBO", "WRAP"];
const CONTAINER_2 = ["CASE", "BOX", "BAG", "JAR", "PKG", "PACK", "CAN", "DRUM"];
// A subset of the specification's 92 colour words (p_name draws 5 distinct ones).
const COLORS = (
  "almond antique aquamarine azure beige bisque black blanched blue blush brown burlywood " +
  "chartreuse chiffon chocolate coral cornflower cream cyan dark deep dim dodger drab " +
  "firebrick floral forest frosted gainsboro ghost goldenrod green grey honeydew hot indian " +
  "ivory khaki lace lavender lawn lemon light lime linen magenta maroon medium metallic"
).split(" ");
const COMMENT_WORDS = (
  "furiously quickly carefully blithely slyly regular express special final pending ironic " +
  "bold even silent unusual requests deposits packages accounts instructions theodolites " +
  "foxes ideas pinto beans dependencies platelets asymptotes courts dolphins sleep wake " +
  "haggle nag cajole detect integrate boost"
).split(" ");

export const START_DATE = toDays(1992, 1, 1);
export const END_DATE = toDays(1998, 12, 31);
/** The specification's CURRENTDATE, which splits returned/open lines. */
export const CURRENT_DATE = toDays(1995, 6, 17);

function comment(rng: Rng, minWords: number, maxWords: number): string {
  const n = rng.int(minWords, maxWords);
  const words: string[] = [];
  for (let i = 0; i < n; i++) words.push(rng.pick(COMMENT_WORDS));
  return words.join(" ");
}
const money = (x: number) => Math.round(x * 100) / 100;
const pad9 = (n: number) => String(n).padStart(9, "0");
function phone(rng: Rng, nationkey: number): string {
  return `${nationkey + 10}-${rng.int(100, 999)}-${rng.int(100, 999)}-${rng.int(1000, 9999)}`;
}
function address(rng: Rng): string {
  const n = rng.int(10, 40);
  let s = "";
  for (let i = 0; i < n; i++)
    s += String.fromCharCode(rng.bool(0.8) ? 97 + rng.int(0, 25) : 48 + rng.int(0, 9));
  return s;
}

/** The specification's retail price, a pure function of the part key. */
export function retailPrice(partkey: number): number {
  return (90000 + (Math.floor(partkey / 10) % 20001) + 100 * (partkey % 1000)) / 100;
}

/** The specification's supplier for the i-th (0..3) partsupp row of a part. */
export function partSupplier(partkey: number, i: number, numSuppliers: number): number {
  const step = Math.floor(numSuppliers / 4) + Math.floor((partkey - 1) / numSuppliers);
  return ((partkey + i * step) % numSuppliers) + 1;
}

/** Order keys are sparse: the first 8 of every 32, as dbgen makes them. */
export function orderKey(index: number): number {
  return Math.floor(index / 8) * 32 + (index % 8) + 1;
}

interface Line {
  partkey: number;
  suppkey: number;
  linenumber: number;
  quantity: number;
  extendedprice: number;
  discount: number;
  tax: number;
  returnflag: string;
  linestatus: string;
  shipdate: number;
  commitdate: number;
  receiptdate: number;
  shipinstruct: string;
  shipmode: string;
  comment: string;
}

interface Order {
  orderkey: number;
  custkey: number;
  orderstatus: string;
  totalprice: number;
  orderdate: number;
  orderpriority: string;
  clerk: string;
  comment: string;
  lines: Line[];
}

export function generateTpch(options: TpchOptions = {}): Dataset {
  const seed = options.seed ?? 42;
  const sf = options.scale ?? 0.01;
  // Below 0.01 the partsupp formula repeats a supplier within a part (step * 2 = suppliers).
  if (!(sf >= 0.01)) throw new Error(`tpch scale must be at least 0.01, got ${sf}`);
  const root = new Rng(seed).fork("tpch");
  const numSuppliers = Math.max(4, Math.round(10_000 * sf));
  const numParts = Math.round(200_000 * sf);
  const numCustomers = Math.round(150_000 * sf);
  const numOrders = Math.round(1_500_000 * sf);
  const numClerks = Math.max(1, Math.round(1000 * sf));

  const makeOrder = (ordersRng: Rng, i: number): Order => {
    const rng = ordersRng.child(i);
    let custkey = rng.int(1, numCustomers);
    // The specification leaves every third customer without orders.
    while (custkey % 3 === 0) custkey = rng.int(1, numCustomers);
    const orderdate = rng.int(START_DATE, END_DATE - 151);
    const lines: Line[] = [];
    const numLines = rng.int(1, 7);
    let total = 0;
    for (let l = 1; l <= numLines; l++) {
      const partkey = rng.int(1, numParts);
      const suppkey = partSupplier(partkey, rng.int(0, 3), numSuppliers);
      const quantity = rng.int(1, 50);
      const extendedprice = money(quantity * retailPrice(partkey));
      const discount = rng.int(0, 10) / 100;
      const tax = rng.int(0, 8) / 100;
      const shipdate = orderdate + rng.int(1, 121);
      const commitdate = orderdate + rng.int(30, 90);
      const receiptdate = shipdate + rng.int(1, 30);
      const returnflag = receiptdate <= CURRENT_DATE ? (rng.bool() ? "R" : "A") : "N";
      const linestatus = shipdate > CURRENT_DATE ? "O" : "F";
      total += extendedprice * (1 + tax) * (1 - discount);
      lines.push({
        partkey,
        suppkey,
        linenumber: l,
        quantity,
        extendedprice,
        discount,
        tax,
        returnflag,
        linestatus,
        shipdate,
        commitdate,
        receiptdate,
        shipinstruct: rng.pick(SHIP_INSTRUCT),
        shipmode: rng.pick(SHIP_MODES),
        comment: comment(rng, 2, 6),
      });
    }
    const statuses = new Set(lines.map((x) => x.linestatus));
    return {
      orderkey: orderKey(i),
      custkey,
      orderstatus: statuses.size > 1 ? "P" : lines[0]!.linestatus,
      totalprice: money(total),
      orderdate,
      orderpriority: rng.pick(ORDER_PRIORITIES),
      clerk: `Clerk#${pad9(rng.int(1, numClerks))}`,
      comment: comment(rng, 3, 8),
      lines,
    };
  };
  const ordersRng = root.fork("orders");

  function* orderChunks(): Iterable<ColumnChunk> {
    const b = new ChunkBuilder(9);
    for (let i = 0; i < numOrders; i++) {
      const o = makeOrder(ordersRng, i);
      b.push([
        o.orderkey,
        o.custkey,
        o.orderstatus,
        o.totalprice,
        o.orderdate,
        o.orderpriority,
        o.clerk,
        0,
        o.comment,
      ]);
      if (b.full()) yield b.take();
    }
    if (b.length) yield b.take();
  }
  function* lineitemChunks(): Iterable<ColumnChunk> {
    const b = new ChunkBuilder(16);
    for (let i = 0; i < numOrders; i++) {
      const o = makeOrder(ordersRng, i);
      for (const l of o.lines) {
        b.push([
          o.orderkey,
          l.partkey,
          l.suppkey,
          l.linenumber,
          l.quantity,
          l.extendedprice,
          l.discount,
          l.tax,
          l.returnflag,
          l.linestatus,
          l.shipdate,
          l.commitdate,
          l.receiptdate,
          l.shipinstruct,
          l.shipmode,
          l.comment,
        ]);
        if (b.full()) yield b.take();
      }
    }
    if (b.length) yield b.take();
  }

  function* supplierChunks(): Iterable<ColumnChunk> {
    const rng = root.fork("supplier");
    const b = new ChunkBuilder(7);
    for (let k = 1; k <= numSuppliers; k++) {
      const nation = rng.int(0, 24);
      b.push([
        k,
        `Supplier#${pad9(k)}`,
        address(rng),
        nation,
        phone(rng, nation),
        money(rng.real(-999.99, 9999.99)),
        comment(rng, 4, 12),
      ]);
      if (b.full()) yield b.take();
    }
    if (b.length) yield b.take();
  }
  function* partChunks(): Iterable<ColumnChunk> {
    const rng = root.fork("part");
    const b = new ChunkBuilder(9);
    for (let k = 1; k <= numParts; k++) {
      const m = rng.int(1, 5);
      b.push([
        k,
        rng.sample(COLORS, 5).join(" "),
        `Manufacturer#${m}`,
        `Brand#${m}${rng.int(1, 5)}`,
        `${rng.pick(TYPE_1)} ${rng.pick(TYPE_2)} ${rng.pick(TYPE_3)}`,
        rng.int(1, 50),
        `${rng.pick(CONTAINER_1)} ${rng.pick(CONTAINER_2)}`,
        retailPrice(k),
        comment(rng, 1, 4),
      ]);
      if (b.full()) yield b.take();
    }
    if (b.length) yield b.take();
  }
  function* partsuppChunks(): Iterable<ColumnChunk> {
    const rng = root.fork("partsupp");
    const b = new ChunkBuilder(5);
    for (let k = 1; k <= numParts; k++) {
      for (let i = 0; i < 4; i++) {
        b.push([
          k,
          partSupplier(k, i, numSuppliers),
          rng.int(1, 9999),
          money(rng.real(1, 1000)),
          comment(rng, 5, 15),
        ]);
        if (b.full()) yield b.take();
      }
    }
    if (b.length) yield b.take();
  }
  function* customerChunks(): Iterable<ColumnChunk> {
    const rng = root.fork("customer");
    const b = new ChunkBuilder(8);
    for (let k = 1; k <= numCustomers; k++) {
      const nation = rng.int(0, 24);
      b.push([
        k,
        `Customer#${pad9(k)}`,
        address(rng),
        nation,
        phone(rng, nation),
        money(rng.real(-999.99, 9999.99)),
        rng.pick(MARKET_SEGMENTS),
        comment(rng, 4, 12),
      ]);
      if (b.full()) yield b.take();
    }
    if (b.length) yield b.take();
  }

  const I = "INTEGER" as const;
  const V = "VARCHAR" as const;
  const D = "DOUBLE" as const;
  const DT = "DATE" as const;
  const col = (name: string, type: "INTEGER" | "VARCHAR" | "DOUBLE" | "DATE") => ({ name, type });
  const tables: TableSpec[] = [
    {
      name: "region",
      columns: [col("r_regionkey", I), col("r_name", V), col("r_comment", V)],
      primaryKey: ["r_regionkey"],
      foreignKeys: [],
      rows: 5,
      chunks: () => {
        const rng = root.fork("region");
        return chunkColumns([
          [0, 1, 2, 3, 4],
          [...TPCH_REGIONS],
          TPCH_REGIONS.map(() => comment(rng, 4, 10)),
        ]);
      },
    },
    {
      name: "nation",
      columns: [
        col("n_nationkey", I),
        col("n_name", V),
        col("n_regionkey", I),
        col("n_comment", V),
      ],
      primaryKey: ["n_nationkey"],
      foreignKeys: [{ columns: ["n_regionkey"], table: "region", refColumns: ["r_regionkey"] }],
      rows: 25,
      chunks: () => {
        const rng = root.fork("nation");
        return chunkColumns([
          TPCH_NATIONS.map((_, i) => i),
          TPCH_NATIONS.map((n) => n[0]),
          TPCH_NATIONS.map((n) => n[1]),
          TPCH_NATIONS.map(() => comment(rng, 4, 12)),
        ]);
      },
    },
    {
      name: "supplier",
      columns: [
        col("s_suppkey", I),
        col("s_name", V),
        col("s_address", V),
        col("s_nationkey", I),
        col("s_phone", V),
        col("s_acctbal", D),
        col("s_comment", V),
      ],
      primaryKey: ["s_suppkey"],
      foreignKeys: [{ columns: ["s_nationkey"], table: "nation", refColumns: ["n_nationkey"] }],
      rows: numSuppliers,
      chunks: supplierChunks,
    },
    {
      name: "part",
      columns: [
        col("p_partkey", I),
        col("p_name", V),
        col("p_mfgr", V),
        col("p_brand", V),
        col("p_type", V),
        col("p_size", I),
        col("p_container", V),
        col("p_retailprice", D),
        col("p_comment", V),
      ],
      primaryKey: ["p_partkey"],
      foreignKeys: [],
      rows: numParts,
      chunks: partChunks,
    },
    {
      name: "partsupp",
      columns: [
        col("ps_partkey", I),
        col("ps_suppkey", I),
        col("ps_availqty", I),
        col("ps_supplycost", D),
        col("ps_comment", V),
      ],
      primaryKey: ["ps_partkey", "ps_suppkey"],
      foreignKeys: [
        { columns: ["ps_partkey"], table: "part", refColumns: ["p_partkey"] },
        { columns: ["ps_suppkey"], table: "supplier", refColumns: ["s_suppkey"] },
      ],
      rows: numParts * 4,
      chunks: partsuppChunks,
    },
    {
      name: "customer",
      columns: [
        col("c_custkey", I),
        col("c_name", V),
        col("c_address", V),
        col("c_nationkey", I),
        col("c_phone", V),
        col("c_acctbal", D),
        col("c_mktsegment", V),
        col("c_comment", V),
      ],
      primaryKey: ["c_custkey"],
      foreignKeys: [{ columns: ["c_nationkey"], table: "nation", refColumns: ["n_nationkey"] }],
      rows: numCustomers,
      chunks: customerChunks,
    },
    {
      name: "orders",
      columns: [
        col("o_orderkey", I),
        col("o_custkey", I),
        col("o_orderstatus", V),
        col("o_totalprice", D),
        col("o_orderdate", DT),
        col("o_orderpriority", V),
        col("o_clerk", V),
        col("o_shippriority", I),
        col("o_comment", V),
      ],
      primaryKey: ["o_orderkey"],
      foreignKeys: [{ columns: ["o_custkey"], table: "customer", refColumns: ["c_custkey"] }],
      rows: numOrders,
      chunks: orderChunks,
    },
    {
      name: "lineitem",
      columns: [
        col("l_orderkey", I),
        col("l_partkey", I),
        col("l_suppkey", I),
        col("l_linenumber", I),
        col("l_quantity", D),
        col("l_extendedprice", D),
        col("l_discount", D),
        col("l_tax", D),
        col("l_returnflag", V),
        col("l_linestatus", V),
        col("l_shipdate", DT),
        col("l_commitdate", DT),
        col("l_receiptdate", DT),
        col("l_shipinstruct", V),
        col("l_shipmode", V),
        col("l_comment", V),
      ],
      primaryKey: ["l_orderkey", "l_linenumber"],
      foreignKeys: [
        { columns: ["l_orderkey"], table: "orders", refColumns: ["o_orderkey"] },
        {
          columns: ["l_partkey", "l_suppkey"],
          table: "partsupp",
          refColumns: ["ps_partkey", "ps_suppkey"],
        },
      ],
      // Unknown up front: 1-7 lines per order (about 4 on average).
      chunks: lineitemChunks,
    },
  ];
  return { name: "tpch", seed, scale: sf, tables };
}
