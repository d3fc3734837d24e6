"""Synthetic instruction tasks for halo-tiny.

Every prompt puts the instruction first and the row's data last, so prompts for different rows of
one `.agent()` call share a long token prefix (the prefix cache's best case). The exact phrasings
are listed in models/README.md: notebooks and benchmarks use them verbatim, because a model this
small answers outside its templates with confident nonsense.

Each generator takes a `random.Random` and returns (messages, answer), where messages is a list of
ChatML turns ending with the user turn the answer replies to.
"""

import random

SYSTEM = "You are a helpful assistant."

CATEGORIES = {
    "electronics": ["headphones", "laptop", "phone charger", "camera", "speaker", "keyboard",
                    "monitor", "smartwatch", "tablet", "router", "earbuds", "mouse"],
    "kitchen": ["blender", "frying pan", "kettle", "toaster", "knife set", "coffee maker",
                "cutting board", "mixing bowl", "rice cooker", "teapot", "spatula", "oven mitt"],
    "clothing": ["jacket", "t-shirt", "jeans", "sweater", "raincoat", "dress", "scarf", "hoodie",
                 "socks", "boots", "hat", "gloves"],
    "books": ["novel", "cookbook", "biography", "poetry collection", "travel guide", "comic book",
              "history book", "textbook", "picture book", "mystery novel", "atlas", "dictionary"],
    "toys": ["puzzle", "teddy bear", "toy car", "board game", "doll", "building blocks",
             "kite", "yo-yo", "toy train", "water gun", "action figure", "rubber duck"],
    "sports": ["tennis racket", "yoga mat", "football", "bicycle helmet", "running shoes",
               "dumbbells", "swim goggles", "golf balls", "jump rope", "ski poles", "basketball",
               "hiking poles"],
    "garden": ["garden hose", "flower pots", "lawn mower", "seed packet", "watering can",
               "pruning shears", "bird feeder", "rake", "shovel", "compost bin", "sprinkler",
               "garden gloves"],
    "beauty": ["shampoo", "face cream", "lipstick", "hair dryer", "perfume", "nail polish",
               "sunscreen", "hand lotion", "face mask", "hair brush", "body wash", "lip balm"],
}
CATEGORY_NAMES = list(CATEGORIES)
BRANDS = ["Acme", "Nova", "Zenith", "Orbit", "Pioneer", "Lumen", "Summit", "Vertex", "Maple",
          "Cobalt", "Harbor", "Willow", "Atlas", "Echo", "Falcon", "Juniper"]
ADJECTIVES = ["compact", "deluxe", "classic", "portable", "premium", "basic", "large", "mini",
              "pro", "eco", "smart", "soft", "sturdy", "light", "bright", "quiet"]
ASPECTS = ["price", "quality", "size", "color", "delivery", "design", "battery", "sound",
           "fit", "smell", "weight", "material", "instructions", "packaging"]

POSITIVE = ["I love this {p}.", "Great {p}, works perfectly.", "The {a} is excellent.",
            "Absolutely fantastic {p}!", "Very happy with the {a}.", "Best {p} I have ever bought.",
            "Highly recommend this {p}.", "The {a} exceeded my expectations.",
            "Wonderful {p}, my family loves it.", "Five stars, the {a} is perfect.",
            "Works great and the {a} is superb.", "Really good {p}, worth every penny."]
NEGATIVE = ["I hate this {p}.", "Terrible {p}, it broke after a week.", "The {a} is awful.",
            "Very disappointed with the {a}.", "Worst {p} I have ever bought.",
            "Do not buy this {p}.", "The {a} is poor and it stopped working.",
            "Complete waste of money.", "The {p} arrived broken and the {a} is bad.",
            "One star, the {a} is horrible.", "Cheap {p}, returned it immediately.",
            "Awful {p}, the {a} fell apart."]
NEUTRAL = ["The {p} is okay.", "It is an average {p}.", "The {a} is fine, nothing special.",
           "The {p} does the job.", "Not bad, not great.", "The {a} is as described.",
           "An ordinary {p}, it works.", "The {p} arrived on time.", "It is a {p}.",
           "The {a} is acceptable for the price.", "Decent {p}, nothing more.",
           "The {p} is what I expected."]
SENTIMENT_PHRASES = {"positive": POSITIVE, "negative": NEGATIVE, "neutral": NEUTRAL}

FIRST = ["Alice", "Bob", "Carla", "David", "Emma", "Farid", "Grace", "Hugo", "Ines", "Jonas",
         "Kenji", "Lena", "Mateo", "Nina", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tara",
         "Umar", "Vera", "Wen", "Yara", "Zoe", "Liam", "Mia", "Noah", "Olga", "Pablo"]
LAST = ["Smith", "Garcia", "Chen", "Novak", "Okafor", "Rossi", "Silva", "Kim", "Muller", "Dubois",
        "Haddad", "Ivanova", "Jensen", "Kowalski", "Lopez", "Moreau", "Nakamura", "Patel"]
CITIES = ["Paris", "Berlin", "Lagos", "Tokyo", "Lima", "Oslo", "Cairo", "Madrid", "Seoul",
          "Dublin", "Quito", "Hanoi", "Vienna", "Nairobi", "Lisbon", "Toronto", "Prague", "Delhi"]
JOBS = ["teacher", "doctor", "engineer", "baker", "pilot", "nurse", "farmer", "painter", "chef",
        "lawyer", "writer", "plumber", "dentist", "singer", "driver", "architect"]
COLORS = ["red", "blue", "green", "yellow", "purple", "orange", "black", "white", "pink", "gray"]
PETS = ["cat", "dog", "parrot", "rabbit", "hamster", "turtle", "goldfish", "horse"]
FRUITS = ["apples", "bananas", "cherries", "grapes", "mangoes", "pears", "plums", "oranges"]
SYLLABLES = ["ka", "lo", "mi", "ra", "ten", "vu", "zo", "pe", "qui", "sa", "bor", "dan", "fi",
             "gu", "hel", "jo", "nex", "tor", "wy", "xa", "el", "or", "an", "is"]


def pseudo_word(rng, capital=False):
    """Random pronounceable words: values never seen in training teach copying (notes: 63% -> 71%)."""
    word = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3)))
    return word.capitalize() if capital else word


def person_name(rng):
    first = rng.choice(FIRST) if rng.random() < 0.5 else pseudo_word(rng, True)
    last = rng.choice(LAST) if rng.random() < 0.5 else pseudo_word(rng, True)
    return f"{first} {last}"


def city(rng):
    return rng.choice(CITIES) if rng.random() < 0.5 else pseudo_word(rng, True)


def product(rng, category=None):
    category = category or rng.choice(CATEGORY_NAMES)
    item = rng.choice(CATEGORIES[category])
    style = rng.random()
    if style < 0.4:
        name = f"{rng.choice(BRANDS)} {item}"
    elif style < 0.8:
        name = f"{rng.choice(ADJECTIVES)} {item}"
    else:
        name = item
    return name, item, category


def review(rng, sentiment=None, category=None):
    """A review of one to two sentences of the given sentiment about one product."""
    sentiment = sentiment or rng.choice(["positive", "negative", "neutral"])
    name, item, category = product(rng, category)
    aspect = rng.choice(ASPECTS)
    phrases = rng.sample(SENTIMENT_PHRASES[sentiment], rng.randint(1, 2))
    text = " ".join(p.format(p=item, a=aspect) for p in phrases)
    return {"product": name, "item": item, "category": category, "sentiment": sentiment,
            "aspect": aspect, "text": text}


# ---------------------------------------------------------------- the tasks

def task_sentiment(rng):
    r = review(rng)
    prompt = ("Classify the sentiment of this review as positive, negative or neutral.\n"
              f"Review: {r['text']}")
    return [{"role": "user", "content": prompt}], r["sentiment"]


def task_category(rng):
    name, _, category = product(rng)
    prompt = ("Which category does this product belong to? Answer with one of: "
              + ", ".join(CATEGORY_NAMES) + f".\nProduct: {name}")
    return [{"role": "user", "content": prompt}], category


def make_record(rng):
    fields = {
        "name": person_name(rng),
        "city": city(rng),
        "email": f"{pseudo_word(rng)}@{pseudo_word(rng)}.com",
        "age": str(rng.randint(18, 90)),
        "job": rng.choice(JOBS) if rng.random() < 0.6 else pseudo_word(rng),
        "phone": f"{rng.randint(100, 999)}-{rng.randint(1000, 9999)}",
        "color": rng.choice(COLORS),
        "product": product(rng)[0],
    }
    keys = rng.sample(list(fields), rng.randint(3, 5))
    return {k: fields[k] for k in keys}


def task_extract(rng):
    record = make_record(rng)
    field = rng.choice(list(record))
    body = "; ".join(f"{k}: {v}" for k, v in record.items())
    prompt = f"Extract the {field} from this record.\nRecord: {body}"
    return [{"role": "user", "content": prompt}], record[field]


QA_FACTS = [
    ("city", "{n} lives in {v}.", "Where does {n} live?"),
    ("job", "{n} works as a {v}.", "What is the job of {n}?"),
    ("color", "{n} likes the color {v}.", "Which color does {n} like?"),
    ("pet", "{n} has a {v}.", "What pet does {n} have?"),
    ("fruit", "{n} buys {v} every week.", "What does {n} buy every week?"),
    ("age", "{n} is {v} years old.", "How old is {n}?"),
]


def fact_value(rng, kind):
    if kind == "city":
        return city(rng)
    if kind == "job":
        return rng.choice(JOBS) if rng.random() < 0.6 else pseudo_word(rng)
    if kind == "color":
        return rng.choice(COLORS)
    if kind == "pet":
        return rng.choice(PETS)
    if kind == "fruit":
        return rng.choice(FRUITS)
    return str(rng.randint(5, 95))


def task_qa(rng):
    people = [person_name(rng).split()[0] for _ in range(2)]
    if people[0] == people[1]:
        people[1] = pseudo_word(rng, True)
    facts = []
    for n in people:
        for kind, stmt, question in rng.sample(QA_FACTS, 2):
            facts.append((n, kind, fact_value(rng, kind), stmt, question))
    rng.shuffle(facts)
    n, kind, value, _, question = rng.choice(facts)
    context = " ".join(stmt.format(n=fn, v=fv) for fn, _, fv, stmt, _ in facts)
    prompt = ("Answer the question using the context.\n"
              f"Context: {context}\nQuestion: {question.format(n=n)}")
    return [{"role": "user", "content": prompt}], value


CHAT_FACTS = [
    ("name", "My name is {v}.", "What is my name?", "Your name is {v}."),
    ("city", "I live in {v}.", "Where do I live?", "You live in {v}."),
    ("job", "I work as a {v}.", "What is my job?", "You work as a {v}."),
    ("pet", "I have a {v}.", "What pet do I have?", "You have a {v}."),
    ("color", "My favorite color is {v}.", "What is my favorite color?", "Your favorite color is {v}."),
]


def task_chat(rng):
    """A follow-up turn that must use what the user said two turns earlier."""
    chosen = rng.sample(CHAT_FACTS, rng.randint(1, 2))
    values = {}
    for kind, *_ in chosen:
        values[kind] = (person_name(rng).split()[0] if kind == "name"
                        else fact_value(rng, kind))
    said = " ".join(stmt.format(v=values[k]) for k, stmt, _, _ in chosen)
    ack = (f"Nice to meet you, {values['name']}!" if "name" in values
           else "Thanks for telling me.")
    kind, _, question, answer = rng.choice(chosen)
    messages = [{"role": "user", "content": said},
                {"role": "assistant", "content": ack},
                {"role": "user", "content": question}]
    return messages, answer.format(v=values[kind])


TOPIC_QUESTIONS = [
    "What is the best way to clean a {k}?", "How much does a {k} cost?",
    "Where can I buy a {k}?", "How do I repair a broken {k}?",
    "Which {k} should I choose for a gift?", "Is a {k} worth the money?",
    "How long does a {k} usually last?", "What are common problems with a {k}?",
]
QUERY_REWRITES = ["clean {k}", "{k} price", "buy {k}", "repair {k}", "{k} gift ideas",
                  "{k} value for money", "{k} lifespan", "{k} common problems"]


def topic_keyword(rng):
    return rng.choice(CATEGORIES[rng.choice(CATEGORY_NAMES)]) if rng.random() < 0.7 \
        else pseudo_word(rng)


def task_keyword(rng):
    k = topic_keyword(rng)
    q = rng.choice(TOPIC_QUESTIONS).format(k=k)
    prompt = f"Pick the main keyword of this question.\nQuestion: {q}"
    return [{"role": "user", "content": prompt}], k


def task_rewrite(rng):
    k = topic_keyword(rng)
    i = rng.randrange(len(TOPIC_QUESTIONS))
    prompt = ("Rewrite the question as a short search query.\n"
              f"Question: {TOPIC_QUESTIONS[i].format(k=k)}")
    return [{"role": "user", "content": prompt}], QUERY_REWRITES[i].format(k=k)


def summary_of(r):
    verb = {"positive": "Praises", "negative": "Complains about", "neutral": "Is neutral about"}
    return f"{verb[r['sentiment']]} the {r['aspect']}."


def task_summarize(rng):
    r = review(rng)
    # the summary names the aspect the review talks about: make sure the text mentions it
    r["text"] = f"{r['text']} The {r['aspect']} stands out." if r["aspect"] not in r["text"] \
        else r["text"]
    prompt = f"Summarize the review in a few words.\nReview: {r['text']}"
    return [{"role": "user", "content": prompt}], summary_of(r)


def task_merge(rng):
    parts = [summary_of(review(rng)) for _ in range(rng.randint(2, 3))]
    prompt = "Merge these summaries into one sentence.\nSummaries: " + " | ".join(parts)
    merged = parts[0][:-1] + "".join("; " + p[0].lower() + p[1:-1] for p in parts[1:]) + "."
    return [{"role": "user", "content": prompt}], merged


# name -> (generator, sampling weight). The five tasks the notebooks use weigh more than the
# generic benchmark tasks; extraction and QA (copying) are the hardest for a model this small.
TASKS = {
    "sentiment": (task_sentiment, 2),
    "category": (task_category, 2),
    "extract": (task_extract, 3),
    "qa": (task_qa, 3),
    "chat": (task_chat, 2),
    "keyword": (task_keyword, 1),
    "rewrite": (task_rewrite, 1),
    "summarize": (task_summarize, 1),
    "merge": (task_merge, 1),
}


def sample_task(rng):
    names = list(TASKS)
    weights = [TASKS[n][1] for n in names]
    name = rng.choices(names, weights)[0]
    messages, answer = TASKS[name][0](rng)
    return name, messages, answer
