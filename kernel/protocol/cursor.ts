// Protocol 5.2+ counts cursor positions in unicode code points; JavaScript strings index UTF-16
// code units. They differ only past astral characters (emoji), which is where clients break.

export function codePointsToUtf16(text: string, codePoints: number): number {
  let units = 0;
  let points = 0;
  while (units < text.length && points < codePoints) {
    units += text.codePointAt(units)! > 0xffff ? 2 : 1;
    points++;
  }
  return units;
}

export function utf16ToCodePoints(text: string, units: number): number {
  return [...text.slice(0, units)].length;
}
