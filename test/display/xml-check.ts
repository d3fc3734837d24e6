// A strict XML well-formedness checker for the SVG and HTML fragments the displays emit, so the
// tests need no XML package (one installed with --no-save was pruned by a later `npm install`).
// Checks what a browser's XML parser rejects: unbalanced or crossed tags, a raw `<` or bare `&`
// in text or attribute values, unknown entities, duplicate or unquoted attributes, junk after
// the root. Returns the element tree so tests can count marks.

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const NAME = /^[A-Za-z_:][-A-Za-z0-9_:.]*$/;
const ENTITY = /&(?:amp|lt|gt|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);/y;

function checkText(text: string, where: string): string {
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "<") throw new Error(`XML: raw '<' in ${where}`);
    if (c === "&") {
      ENTITY.lastIndex = i;
      const m = ENTITY.exec(text);
      if (!m) throw new Error(`XML: bare or unknown entity '${text.slice(i, i + 12)}' in ${where}`);
      i += m[0].length - 1;
    }
  }
  return text
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&#x([0-9a-fA-F]+);/g, (_, h: string) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&#([0-9]+);/g, (_, d: string) => String.fromCodePoint(Number(d)))
    .replace(/&amp;/g, "&");
}

function parseAttrs(src: string, tag: string): Record<string, string> {
  const attrs: Record<string, string> = {};
  let rest = src.trim();
  while (rest.length > 0) {
    const m = /^([^\s=]+)\s*=\s*("([^"]*)"|'([^']*)')/.exec(rest);
    if (!m) throw new Error(`XML: malformed attribute near '${rest.slice(0, 30)}' in <${tag}>`);
    const name = m[1]!;
    if (!NAME.test(name)) throw new Error(`XML: bad attribute name '${name}' in <${tag}>`);
    if (name in attrs) throw new Error(`XML: duplicate attribute '${name}' in <${tag}>`);
    attrs[name] = checkText(m[3] ?? m[4] ?? "", `attribute ${name} of <${tag}>`);
    rest = rest.slice(m[0].length);
    if (rest.length > 0 && !/^\s/.test(rest)) {
      throw new Error(`XML: attributes need whitespace between them in <${tag}>`);
    }
    rest = rest.trim();
  }
  return attrs;
}

/** Parses a document or fragment with exactly one root element; throws on the first error. */
export function parseXml(source: string): XmlElement {
  let src = source.replace(/^\s*<\?xml[^?]*\?>/, "");
  const root: XmlElement = { name: "#root", attrs: {}, children: [], text: "" };
  const stack: XmlElement[] = [root];
  let i = 0;
  while (i < src.length) {
    const lt = src.indexOf("<", i);
    const textEnd = lt < 0 ? src.length : lt;
    if (textEnd > i) {
      const text = checkText(src.slice(i, textEnd), `text inside <${stack.at(-1)!.name}>`);
      if (stack.length === 1 && text.trim()) throw new Error("XML: text outside the root element");
      stack.at(-1)!.text += text;
    }
    if (lt < 0) break;
    if (src.startsWith("<!--", lt)) {
      const end = src.indexOf("-->", lt + 4);
      if (end < 0) throw new Error("XML: unterminated comment");
      i = end + 3;
      continue;
    }
    if (src.startsWith("<![CDATA[", lt)) {
      const end = src.indexOf("]]>", lt);
      if (end < 0) throw new Error("XML: unterminated CDATA");
      stack.at(-1)!.text += src.slice(lt + 9, end);
      i = end + 3;
      continue;
    }
    // Find the tag end, skipping '>' inside quoted attribute values.
    let j = lt + 1;
    let quote = "";
    for (; j < src.length; j++) {
      const c = src[j]!;
      if (quote) {
        if (c === quote) quote = "";
      } else if (c === '"' || c === "'") quote = c;
      else if (c === "<") throw new Error(`XML: '<' inside a tag near '${src.slice(lt, lt + 30)}'`);
      else if (c === ">") break;
    }
    if (j >= src.length) throw new Error(`XML: unterminated tag near '${src.slice(lt, lt + 30)}'`);
    const body = src.slice(lt + 1, j);
    i = j + 1;
    if (body.startsWith("/")) {
      const name = body.slice(1).trim();
      const open = stack.pop();
      if (!open || open === root) throw new Error(`XML: closing </${name}> with nothing open`);
      if (open.name !== name) throw new Error(`XML: </${name}> closes <${open.name}>`);
      continue;
    }
    const selfClosing = body.endsWith("/");
    const inner = selfClosing ? body.slice(0, -1) : body;
    const m = /^([^\s/>]+)([\s\S]*)$/.exec(inner);
    if (!m || !NAME.test(m[1]!)) throw new Error(`XML: bad tag name in '<${body.slice(0, 30)}>'`);
    const el: XmlElement = { name: m[1]!, attrs: parseAttrs(m[2]!, m[1]!), children: [], text: "" };
    const parent = stack.at(-1)!;
    if (parent === root && root.children.length > 0)
      throw new Error("XML: more than one root element");
    parent.children.push(el);
    if (!selfClosing) stack.push(el);
  }
  if (stack.length > 1) throw new Error(`XML: <${stack.at(-1)!.name}> is never closed`);
  if (root.children.length !== 1) throw new Error("XML: no root element");
  src = "";
  return root.children[0]!;
}

/** Every element in document order. */
export function allElements(el: XmlElement): XmlElement[] {
  return [el, ...el.children.flatMap(allElements)];
}

/** Parses an SVG document and checks its root is an <svg> in the SVG namespace with a size. */
export function parseSvg(svg: string): XmlElement {
  const root = parseXml(svg);
  if (root.name !== "svg") throw new Error(`SVG: root element is <${root.name}>, not <svg>`);
  if (root.attrs["xmlns"] !== "http://www.w3.org/2000/svg")
    throw new Error("SVG: missing SVG namespace");
  if (!(Number(root.attrs["width"]) > 0 && Number(root.attrs["height"]) > 0)) {
    throw new Error(
      `SVG: width/height missing or zero (${root.attrs["width"]} x ${root.attrs["height"]})`,
    );
  }
  return root;
}

/** Elements whose class list contains `cls`. */
export function byClass(el: XmlElement, cls: string): XmlElement[] {
  return allElements(el).filter((e) => (e.attrs["class"] ?? "").split(/\s+/).includes(cls));
}
