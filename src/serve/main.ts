// Placeholder until issue 10, serving lands: says so plainly rather than pretending to work.
export async function run(_args: string[]): Promise<number> {
  process.stderr.write("halo: 'serve' is not implemented yet (issue 10, serving)\n");
  return 1;
}
