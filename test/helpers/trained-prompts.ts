// The shipped model's trained phrasings (models/README.md) that tests run agents with, and a few
// reviews to run them on. One place (bench/workloads/prompts.ts, shared with the benchmarks), so
// a test cannot drift into a phrasing the tiny model was never trained on (it then answers with
// confident nonsense).
export {
  SAMPLE_REVIEWS,
  SENTIMENT_CHOICES,
  SENTIMENT_PROMPT,
  SUMMARY_PROMPT,
} from "../../bench/workloads/prompts.ts";
