// Text width without a browser: advance widths of DejaVu Sans and DejaVu Sans Bold for printable
// ASCII, in 1/1000 em, read from Debian's fonts-dejavu-core TTFs (hmtx table). DejaVu is wider
// than the Helvetica/Arial a browser falls back to, so boxes sized with it also fit there.
// Other characters count as 1 em (CJK is about that; ≈, ·, … are narrower).

// prettier-ignore
const REGULAR = [
  318, 401, 460, 838, 636, 950, 780, 275, 390, 390, 500, 838, 318, 361, 318, 337, 636, 636, 636,
  636, 636, 636, 636, 636, 636, 636, 337, 337, 838, 838, 838, 531, 1000, 684, 686, 698, 770, 632,
  575, 775, 752, 295, 295, 656, 557, 863, 748, 787, 603, 787, 695, 635, 611, 732, 684, 989, 685,
  611, 685, 390, 337, 390, 838, 500, 500, 613, 635, 550, 635, 615, 352, 635, 634, 278, 278, 579,
  278, 974, 634, 612, 635, 635, 411, 521, 392, 634, 592, 818, 592, 592, 525, 636, 337, 636, 838,
];

// prettier-ignore
const BOLD = [
  348, 456, 521, 838, 696, 1002, 872, 306, 457, 457, 523, 838, 380, 415, 380, 365, 696, 696, 696,
  696, 696, 696, 696, 696, 696, 696, 400, 400, 838, 838, 838, 580, 1000, 774, 762, 734, 830, 683,
  683, 821, 837, 372, 372, 775, 637, 995, 837, 850, 733, 850, 770, 720, 682, 812, 774, 1103, 771,
  724, 725, 457, 365, 457, 838, 500, 500, 675, 716, 593, 716, 678, 435, 716, 712, 343, 343, 665,
  343, 1042, 712, 687, 716, 716, 493, 595, 478, 712, 652, 924, 645, 652, 582, 712, 365, 712, 838,
];

/** Width in px of `text` set in DejaVu Sans (bold or regular) at `fontPx`. */
export function textWidth(text: string, fontPx: number, bold = false): number {
  const table = bold ? BOLD : REGULAR;
  let milli = 0;
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    milli += c >= 32 && c < 127 ? table[c - 32]! : 1000;
  }
  return (milli * fontPx) / 1000;
}

/** Cuts `text` with an ellipsis so it fits `maxPx`. */
export function fitText(text: string, fontPx: number, maxPx: number, bold = false): string {
  if (textWidth(text, fontPx, bold) <= maxPx) return text;
  const chars = [...text];
  let lo = 0;
  let hi = chars.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (textWidth(`${chars.slice(0, mid).join("")}…`, fontPx, bold) <= maxPx) lo = mid;
    else hi = mid - 1;
  }
  return `${chars.slice(0, lo).join("")}…`;
}
