"""Writes notebooks/data/reviews.csv: product reviews from the same generator as the training data,
so the quickstart's `.agent()` calls (sentiment, category, extraction) get sensible answers.

    /usr/bin/python3 models/build/make-reviews.py
"""

import csv
import os
import random
import sys

sys.path.insert(0, os.path.dirname(__file__))
import tasks  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
RATING = {"positive": (4, 5), "neutral": (3, 3), "negative": (1, 2)}


def main(rows=300, seed=2025):
    rng = random.Random(seed)
    out = os.path.join(ROOT, "notebooks", "data", "reviews.csv")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "product", "category", "rating", "customer", "city", "date", "review"])
        for i in range(1, rows + 1):
            r = tasks.review(rng)
            lo, hi = RATING[r["sentiment"]]
            customer = f"{rng.choice(tasks.FIRST)} {rng.choice(tasks.LAST)}"
            date = f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
            w.writerow([i, r["product"], r["category"], rng.randint(lo, hi), customer,
                        rng.choice(tasks.CITIES), date, r["text"]])
    print(out)


if __name__ == "__main__":
    main()
