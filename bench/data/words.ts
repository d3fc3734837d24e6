// Small fixed vocabularies shared by the data generators and the query-input generators: the
// inputs draw their keywords, genres and categories from the same lists the data was built
// from, so every tool call finds rows, and the small domains make calls repeat across queries.

export const GENRES = [
  "Action",
  "Adventure",
  "Animation",
  "Comedy",
  "Crime",
  "Documentary",
  "Drama",
  "Fantasy",
  "Horror",
  "Mystery",
  "Romance",
  "Thriller",
] as const;

/** Nouns that titles are built from; the movie workloads' keyword domain. */
export const TITLE_NOUNS = [
  "heist",
  "river",
  "garden",
  "storm",
  "island",
  "mirror",
  "train",
  "castle",
  "winter",
  "dragon",
  "harbor",
  "orchard",
  "desert",
  "signal",
  "lantern",
  "forest",
  "comet",
  "violin",
  "bridge",
  "circus",
  "mountain",
  "shadow",
  "empire",
  "voyage",
  "festival",
  "detective",
  "robot",
  "kingdom",
  "secret",
  "summer",
  "ocean",
  "letter",
] as const;

export const TITLE_ADJECTIVES = [
  "silent",
  "golden",
  "broken",
  "last",
  "hidden",
  "crimson",
  "lonely",
  "electric",
  "frozen",
  "wild",
  "distant",
  "midnight",
  "little",
  "endless",
  "secret",
  "burning",
] as const;

export const FIRST_NAMES = [
  "Ada",
  "Bruno",
  "Clara",
  "Dmitri",
  "Elena",
  "Farid",
  "Greta",
  "Hiro",
  "Ines",
  "Jonas",
  "Kara",
  "Leo",
  "Mira",
  "Nils",
  "Olga",
  "Pablo",
  "Quinn",
  "Rosa",
  "Sami",
  "Tara",
  "Umar",
  "Vera",
  "Wen",
  "Yara",
] as const;

export const LAST_NAMES = [
  "Abbott",
  "Berg",
  "Castillo",
  "Dubois",
  "Eriksen",
  "Fontaine",
  "Garcia",
  "Hale",
  "Ivanova",
  "Jensen",
  "Kowalski",
  "Lindqvist",
  "Moreau",
  "Nakamura",
  "Okafor",
  "Petrov",
  "Quintero",
  "Rossi",
  "Sato",
  "Tanaka",
  "Ueda",
  "Varga",
  "Weber",
  "Zhou",
] as const;

export const PROFESSIONS = ["actor", "actress", "director", "writer", "producer", "composer"];

export const REGIONS = ["US", "GB", "FR", "DE", "JP", "ES", "IT", "BR"] as const;
export const LANGUAGES = ["en", "fr", "de", "ja", "es", "it", "pt"] as const;

/** The lexicon workloads' categories, each with its own topic words for article text. */
export const CATEGORY_TOPICS: Record<string, readonly string[]> = {
  astronomy: ["telescope", "comet", "orbit", "galaxy", "nebula", "planet", "eclipse", "star"],
  biology: ["cell", "protein", "enzyme", "species", "genome", "membrane", "fungus", "neuron"],
  chemistry: ["molecule", "catalyst", "acid", "polymer", "reaction", "crystal", "ion", "solvent"],
  geography: ["river", "plateau", "delta", "glacier", "island", "valley", "desert", "coast"],
  history: ["empire", "treaty", "dynasty", "revolution", "monarch", "siege", "colony", "charter"],
  music: ["symphony", "violin", "chord", "melody", "opera", "rhythm", "sonata", "choir"],
  sport: ["marathon", "league", "stadium", "referee", "tournament", "medal", "relay", "coach"],
  technology: ["compiler", "network", "database", "sensor", "protocol", "battery", "robot", "chip"],
  medicine: ["vaccine", "therapy", "surgery", "diagnosis", "antibody", "clinic", "dose", "virus"],
  economics: ["inflation", "market", "tariff", "currency", "budget", "credit", "trade", "wage"],
  literature: ["novel", "poem", "sonnet", "author", "chapter", "narrator", "fable", "verse"],
  architecture: ["arch", "facade", "vault", "column", "tower", "bridge", "dome", "courtyard"],
};

export const FILLER_WORDS = [
  "the",
  "a",
  "of",
  "in",
  "and",
  "with",
  "early",
  "modern",
  "studies",
  "shows",
  "describes",
  "known",
  "important",
  "several",
  "large",
  "small",
  "first",
  "new",
  "common",
  "used",
] as const;

/** A deterministic pseudo-translation for the second (language-bridge) partition: the "de"
 * partition's text is a fixed word map of the English text, so bridge lookups can be checked. */
export function pseudoTranslate(word: string): string {
  const w = word.toLowerCase();
  if (w.length <= 2) return `${w}e`;
  return `${w.slice(0, -1)}${w.endsWith("e") ? "en" : "ung"}`;
}
