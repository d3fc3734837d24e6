// The shipped model's trained phrasings (models/README.md) that tests run agents with, and a few
// reviews to run them on. One place, so a test cannot drift into a phrasing the tiny model was
// never trained on (it then answers with confident nonsense).

export const SENTIMENT_PROMPT =
  "Classify the sentiment of this review as positive, negative or neutral.\nReview: {{review}}";
export const SENTIMENT_CHOICES = ["positive", "negative", "neutral"];
export const SUMMARY_PROMPT = "Summarize the review in a few words.\nReview: {{review}}";

export const SAMPLE_REVIEWS = [
  "Great kettle, works perfectly. I love it.",
  "Terrible shoes, they broke after a week.",
  "The blender is okay. It does the job.",
  "Excellent book, I read it twice.",
  "The lamp arrived broken and support never answered.",
  "Nice toy, my kids play with it every day.",
];
