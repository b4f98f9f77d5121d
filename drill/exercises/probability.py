"""bayes-posterior and ab-test: Bayes' rule on a test result, and the two-proportion z-test.

Bayes: with prior π = P(C), sensitivity s = P(+ | C) and specificity c = P(− | not C),
    P(C | +) = π s / (π s + (1 − π)(1 − c)),  P(C | −) = π (1 − s) / (π (1 − s) + (1 − π) c),
and two positive results, independent given C and given not C, square s and 1 − c.
Base-rate neglect is the lesson: a rare condition stays unlikely after one positive.

A/B test on conversion rates: p̂_A = x_A / n_A, p̂_B = x_B / n_B, the pooled rate
p̂ = (x_A + x_B) / (n_A + n_B), z = (p̂_B − p̂_A) / √(p̂(1 − p̂)(1/n_A + 1/n_B)) and the
two-sided p-value 2(1 − Φ(|z|)). The sample size per group to detect p₁ → p₂ with a
two-sided level α and power 1 − β is n = (z_(1−α/2) + z_(1−β))² (p₁(1 − p₁) + p₂(1 − p₂))
/ (p₂ − p₁)², rounded up; the question gives the normal quantiles.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from drill.exercises.base import Difficulty, Exercise
from drill.exercises.common import (
    choose,
    fmt,
    fmt_count,
    fmt_sci,
    pick,
    resample,
    useful_values,
)
from drill.exercises.slips import telling_slips

PARAMS_BY_NAME: dict[str, dict[str, tuple[Any, ...]]] = {
    "bayes-posterior": {"observed": ("positive", "negative", "two-positives")},
    "ab-test": {"asked": ("z", "p-value", "sample-size")},
}

# --- bayes-posterior ------------------------------------------------------------------------


@dataclass(frozen=True)
class Context:
    population: str  # "the people screened"
    condition: str  # "have the disease"
    flags: str  # "is positive for"
    clears: str  # "is negative for"
    with_it: str  # "those who have it"
    without_it: str  # "those who do not"
    one: str  # "A person"
    test: str  # "The test"
    positive: str  # "tests positive"
    negative: str  # "tests negative"
    asked: str  # "they have the disease"


CONTEXTS = {
    "screening": Context(
        "the people screened",
        "have the disease",
        "is positive for",
        "negative for",
        "those who have it",
        "those who do not",
        "A person",
        "The test",
        "tests positive",
        "tests negative",
        "they have the disease",
    ),
    "spam": Context(
        "the emails received",
        "are spam",
        "flags",
        "lets through",
        "spam emails",
        "legitimate ones",
        "An email",
        "The filter",
        "is flagged",
        "is not flagged",
        "it is spam",
    ),
    "fraud": Context(
        "the transactions",
        "are fraudulent",
        "flags",
        "clears",
        "fraudulent transactions",
        "legitimate ones",
        "A transaction",
        "The detector",
        "is flagged",
        "is not flagged",
        "it is fraudulent",
    ),
}


def posterior(prior: float, sensitivity: float, specificity: float, observed: str) -> float:
    """P(condition | what was observed), by Bayes' rule."""
    if observed == "negative":
        hit, miss = prior * (1 - sensitivity), (1 - prior) * specificity
    else:
        power = 2 if observed == "two-positives" else 1
        hit, miss = prior * sensitivity**power, (1 - prior) * (1 - specificity) ** power
    return hit / (hit + miss)


def bayes_posterior(rng: np.random.Generator, difficulty: Difficulty, **params: Any) -> Exercise:
    hand = difficulty is Difficulty.HAND
    observed = choose(
        rng, params, "observed", ("positive", "positive", "negative", "two-positives")
    )
    context_name = pick(rng, tuple(CONTEXTS))
    context = CONTEXTS[context_name]

    def draw_once(r: np.random.Generator) -> tuple[float, float, float]:
        if hand:
            return (
                pick(r, (0.01, 0.02, 0.05, 0.1, 0.2)),
                pick(r, (0.8, 0.9, 0.95, 0.99)),
                pick(r, (0.9, 0.95, 0.98, 0.99)),
            )
        return (
            round(float(r.uniform(0.001, 0.3)), 3),
            round(float(r.uniform(0.6, 0.999)), 3),
            round(float(r.uniform(0.8, 0.999)), 3),
        )

    def teaches(values: tuple[float, float, float]) -> bool:
        """A posterior short of certainty, which the base rate visibly moves."""
        answer = posterior(*values, observed)
        neglected = posterior(0.5, *values[1:], observed)
        return 0.001 <= answer <= 0.95 and abs(neglected - answer) > 0.03 * answer

    prior, sensitivity, specificity = resample(rng, draw_once, teaches)
    answer = posterior(prior, sensitivity, specificity, observed)
    slips = {
        "prior ignored (taken as ½)": posterior(0.5, sensitivity, specificity, observed),
        "the complement, P(not C | result), given": 1 - answer,
    }
    if observed == "positive":
        slips["the sensitivity P(+ | C) given instead of P(C | +)"] = sensitivity
        slips["specificity used as the false-positive rate"] = (
            prior * sensitivity / (prior * sensitivity + (1 - prior) * specificity)
        )
    elif observed == "negative":
        slips["the miss rate P(− | C) = 1 − s given instead"] = 1 - sensitivity
    else:
        slips["one positive result only"] = posterior(prior, sensitivity, specificity, "positive")
    return Exercise(
        generator="bayes-posterior",
        seed=0,
        difficulty=difficulty,
        question=_bayes_question(context, prior, sensitivity, specificity, observed),
        spec={
            "observed": observed,
            "context": context_name,
            "asked": "P(condition | observed result)",
            "independent": "repeated results are independent given the condition and given "
            "its absence",
        },
        inputs={"prior": prior, "sensitivity": sensitivity, "specificity": specificity},
        asked={"value": "posterior"},
        answer=answer,
        solution=_bayes_solution(prior, sensitivity, specificity, observed, answer),
        slips=telling_slips(slips, answer),
    )


def _percent(x: float) -> str:
    return f"{fmt(x * 100, 6)}%"


def _bayes_question(
    context: Context, prior: float, sensitivity: float, specificity: float, observed: str
) -> str:
    event = {
        "positive": f"{context.one} {context.positive}.",
        "negative": f"{context.one} {context.negative}.",
        "two-positives": f"{context.one} {context.positive} twice, by two independent runs of "
        f"{context.test.lower()} (independent given the condition and given its absence).",
    }[observed]
    return "\n".join(
        [
            f"{_percent(prior)} of {context.population} {context.condition} (the prior).",
            f"{context.test} {context.flags} {_percent(sensitivity)} of {context.with_it} "
            f"(sensitivity {fmt(sensitivity)}) and {context.clears} {_percent(specificity)} of "
            f"{context.without_it} (specificity {fmt(specificity)}).",
            event,
            f"What is the probability that {context.asked}?",
        ]
    )


def _bayes_solution(
    prior: float, sensitivity: float, specificity: float, observed: str, answer: float
) -> list[str]:
    if observed == "negative":
        hit, miss = prior * (1 - sensitivity), (1 - prior) * specificity
        hit_text = f"P(C)·P(− | C) = {fmt(prior)}·{fmt(1 - sensitivity)}"
        miss_text = f"P(not C)·P(− | not C) = {fmt(1 - prior)}·{fmt(specificity)}"
        name = "P(C | −)"
    else:
        power = "²" if observed == "two-positives" else ""
        k = 2 if power else 1
        hit, miss = prior * sensitivity**k, (1 - prior) * (1 - specificity) ** k
        hit_text = f"P(C)·P(+ | C){power} = {fmt(prior)}·{fmt(sensitivity)}{power}"
        miss_text = f"P(not C)·P(+ | not C){power} = {fmt(1 - prior)}·{fmt(1 - specificity)}{power}"
        name = "P(C | + +)" if power else "P(C | +)"
    return [
        f"{hit_text} = {fmt(hit, 6)}",
        f"{miss_text} = {fmt(miss, 6)}",
        f"{name} = {fmt(hit, 6)} / ({fmt(hit, 6)} + {fmt(miss, 6)}) = {fmt(answer, 6)}.",
    ]


# --- ab-test ---------------------------------------------------------------------------------

QUANTILES = {0.05: 1.96, 0.01: 2.5758, 0.8: 0.8416, 0.9: 1.2816}
HAND_QUANTILES = {0.05: 1.96, 0.8: 0.84}


def normal_sf(z: float) -> float:
    """1 − Φ(z), the standard normal's upper tail."""
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def ab_test(rng: np.random.Generator, difficulty: Difficulty, **params: Any) -> Exercise:
    hand = difficulty is Difficulty.HAND
    asked = choose(
        rng,
        params,
        "asked",
        ("z", "sample-size") if hand else tuple(PARAMS_BY_NAME["ab-test"]["asked"]),
    )
    if asked == "sample-size":
        return _sample_size(rng, difficulty, hand)
    return _z_test(rng, difficulty, hand, asked)


@dataclass(frozen=True)
class Trial:
    n_a: int
    x_a: int
    n_b: int
    x_b: int

    @property
    def rates(self) -> tuple[float, float]:
        return self.x_a / self.n_a, self.x_b / self.n_b

    @property
    def pooled(self) -> float:
        return (self.x_a + self.x_b) / (self.n_a + self.n_b)

    @property
    def variance(self) -> float:
        """p̂(1 − p̂)(1/n_A + 1/n_B): the squared standard error under the null."""
        p = self.pooled
        return p * (1 - p) * (1 / self.n_a + 1 / self.n_b)

    @property
    def z(self) -> float:
        a, b = self.rates
        return (b - a) / math.sqrt(self.variance)


def _draw_trial(rng: np.random.Generator, hand: bool) -> Trial:
    if hand:
        n = pick(rng, (200, 400, 500, 1000, 2000))
        rate_a = pick(rng, (0.05, 0.1, 0.2, 0.25, 0.3))
        rate_b = rate_a + pick(rng, (-0.03, -0.02, 0.02, 0.03, 0.04, 0.05))
        return Trial(n, round(n * rate_a), n, round(n * rate_b))
    n_a, n_b = (int(v) for v in rng.integers(500, 20_000, size=2))
    rate = float(rng.uniform(0.02, 0.3))
    lift = float(rng.uniform(-0.2, 0.3))
    return Trial(
        n_a,
        int(rng.binomial(n_a, rate)),
        n_b,
        int(rng.binomial(n_b, min(rate * (1 + lift), 0.99))),
    )


def _z_test(rng: np.random.Generator, difficulty: Difficulty, hand: bool, asked: str):
    trial = resample(rng, lambda r: _draw_trial(r, hand), lambda t: 0.3 <= abs(t.z) <= 4.0)
    z = trial.z
    p_value = 2 * normal_sf(abs(z))
    answer = z if asked == "z" else p_value
    a, b = trial.rates
    if asked == "z":
        slips = {
            "the square root left out of the standard error": (b - a) / trial.variance,
        }
    else:
        slips = {
            "one-sided p-value 1 − Φ(|z|)": p_value / 2,
            "Φ(|z|) given instead of the tail": 1 - p_value / 2,
            "1 − p: the confidence, not the p-value": 1 - p_value,
        }
    hints = []
    if hand:
        hints.append((f"√{fmt_sci(trial.variance)}", math.sqrt(trial.variance)))
        if asked == "p-value":
            # The tail itself: 1 − Φ(|z|) read off a rounded Φ ≈ 1 would lose its digits.
            hints.append((f"1 − Φ({fmt(abs(z), 6)})", normal_sf(abs(z))))
    return Exercise(
        generator="ab-test",
        seed=0,
        difficulty=difficulty,
        question=_z_question(trial, asked, useful_values(hints)),
        spec={
            "asked": asked,
            "test": "two-proportion z-test with the pooled rate",
            "alternative": "two-sided",
            "z": "(p̂_B − p̂_A) / √(p̂(1 − p̂)(1/n_A + 1/n_B)), p̂ = (x_A + x_B) / (n_A + n_B)",
            "p_value": "2·(1 − Φ(|z|))",
        },
        inputs={
            "n_a": trial.n_a,
            "conversions_a": trial.x_a,
            "n_b": trial.n_b,
            "conversions_b": trial.x_b,
        },
        asked={"value": "z" if asked == "z" else "p_value"},
        answer=answer,
        solution=_z_solution(trial, asked, p_value),
        slips=telling_slips(slips, answer),
    )


def _z_question(trial: Trial, asked: str, hint: str) -> str:
    wanted = (
        "What is the z statistic?"
        if asked == "z"
        else "What is the two-sided p-value, 2·(1 − Φ(|z|)), with Φ the standard normal CDF?"
    )
    return "\n".join(
        [
            "An A/B test compares the conversion rates of two versions of a page:",
            f"  A: {fmt_count(trial.x_a)} conversions out of n_A = {fmt_count(trial.n_a)} visitors",
            f"  B: {fmt_count(trial.x_b)} conversions out of n_B = {fmt_count(trial.n_b)} visitors",
            "A two-proportion z-test with the pooled rate p̂ = (x_A + x_B) / (n_A + n_B) uses",
            "  z = (p̂_B − p̂_A) / √(p̂(1 − p̂)(1/n_A + 1/n_B))",
            *([hint] if hint else []),
            wanted,
        ]
    )


def _z_solution(trial: Trial, asked: str, p_value: float) -> list[str]:
    a, b = trial.rates
    lines = [
        f"p̂_A = {trial.x_a} / {trial.n_a} = {fmt(a, 6)}, p̂_B = {trial.x_b} / {trial.n_b} = "
        f"{fmt(b, 6)}",
        f"p̂ = ({trial.x_a} + {trial.x_b}) / ({trial.n_a} + {trial.n_b}) = {fmt(trial.pooled, 6)}",
        f"SE = √({fmt(trial.pooled, 6)}·{fmt(1 - trial.pooled, 6)}·(1/{trial.n_a} + "
        f"1/{trial.n_b})) = √{fmt_sci(trial.variance)} = {fmt(math.sqrt(trial.variance), 6)}",
    ]
    z_line = f"z = ({fmt(b, 6)} − {fmt(a, 6)}) / {fmt(math.sqrt(trial.variance), 6)} = "
    if asked == "z":
        return [*lines, z_line + f"{fmt(trial.z, 6)}."]
    return [
        *lines,
        z_line + fmt(trial.z, 6),
        f"p = 2·(1 − Φ({fmt(abs(trial.z), 6)})) = 2·{fmt(normal_sf(abs(trial.z)), 6)} = "
        f"{fmt(p_value, 6)}.",
    ]


def sample_size_per_group(p1: float, p2: float, z_alpha: float, z_power: float) -> float:
    """The unrounded n per group of the formula in the question."""
    spread = p1 * (1 - p1) + p2 * (1 - p2)
    return (z_alpha + z_power) ** 2 * spread / (p2 - p1) ** 2


def _sample_size(rng: np.random.Generator, difficulty: Difficulty, hand: bool) -> Exercise:
    if hand:
        p1 = pick(rng, (0.1, 0.2, 0.3, 0.5))
        p2 = round(p1 + pick(rng, (0.05, 0.1)), 2)
        alpha, power = 0.05, 0.8
        quantiles = HAND_QUANTILES
    else:
        p1 = round(float(rng.uniform(0.02, 0.4)), 3)
        p2 = round(p1 * (1 + float(rng.uniform(0.05, 0.3))), 3)
        alpha, power = pick(rng, (0.05, 0.01)), pick(rng, (0.8, 0.9))
        quantiles = QUANTILES
    z_alpha, z_power = quantiles[alpha], quantiles[power]
    exact = sample_size_per_group(p1, p2, z_alpha, z_power)
    answer = math.ceil(round(exact, 6))  # 196.00000000003 from binary rounding is 196
    one_sided = {0.05: 1.6449, 0.01: 2.3263}[alpha]
    slips = {
        "z_(1−α) of a one-sided test used": math.ceil(
            sample_size_per_group(p1, p2, one_sided, z_power)
        ),
        "the power term z_(1−β) left out": math.ceil(sample_size_per_group(p1, p2, z_alpha, 0)),
        "both groups together (2n)": 2 * answer,
        "the z sum not squared": math.ceil(exact / (z_alpha + z_power)),
    }
    return Exercise(
        generator="ab-test",
        seed=0,
        difficulty=difficulty,
        question=_sample_size_question(p1, p2, alpha, power, z_alpha, z_power),
        spec={
            "asked": "sample-size",
            "alternative": "two-sided",
            "formula": "n = (z_alpha + z_power)² (p1(1 − p1) + p2(1 − p2)) / (p2 − p1)², "
            "rounded up, per group",
        },
        inputs={
            "p1": p1,
            "p2": p2,
            "alpha": alpha,
            "power": power,
            "z_alpha": z_alpha,
            "z_power": z_power,
        },
        asked={"value": "n_per_group"},
        answer=answer,
        solution=_sample_size_solution(p1, p2, z_alpha, z_power, exact, answer),
        slips=telling_slips(slips, answer),
    )


def _sample_size_question(p1, p2, alpha, power, z_alpha, z_power) -> str:
    return "\n".join(
        [
            f"A page converts at p₁ = {fmt(p1)}. You want an A/B test, equal groups, to detect "
            f"a change to p₂ = {fmt(p2)} with a two-sided level α = {fmt(alpha)} and power "
            f"{fmt(power)}.",
            "  n = (z_(1−α/2) + z_(1−β))² · (p₁(1 − p₁) + p₂(1 − p₂)) / (p₂ − p₁)² per group",
            f"with z_(1−α/2) = z_{fmt(1 - alpha / 2)} = {fmt(z_alpha, 6)} and z_(1−β) = "
            f"z_{fmt(power)} = {fmt(z_power, 6)}.",
            "How many visitors does each group need (round up)? Answers within 1% count.",
        ]
    )


def _sample_size_solution(p1, p2, z_alpha, z_power, exact, answer) -> list[str]:
    spread = p1 * (1 - p1) + p2 * (1 - p2)
    return [
        f"(z_(1−α/2) + z_(1−β))² = ({fmt(z_alpha, 6)} + {fmt(z_power, 6)})² = "
        f"{fmt((z_alpha + z_power) ** 2, 6)}",
        f"p₁(1 − p₁) + p₂(1 − p₂) = {fmt(p1 * (1 - p1), 6)} + {fmt(p2 * (1 - p2), 6)} = "
        f"{fmt(spread, 6)}",
        f"(p₂ − p₁)² = {fmt(p2 - p1, 6)}² = {fmt((p2 - p1) ** 2, 6)}",
        f"n = {fmt((z_alpha + z_power) ** 2, 6)} · {fmt(spread, 6)} / "
        f"{fmt((p2 - p1) ** 2, 6)} = {fmt(exact, 8)}",
        f"Rounded up, n = {answer}.",
    ]


GENERATE: dict[str, Callable[..., Exercise]] = {
    "bayes-posterior": bayes_posterior,
    "ab-test": ab_test,
}
