"""perplexity and sampling: how a language model's next-token probabilities are read.

Perplexity is the exponential of the mean negative log-likelihood per token:
PPL = exp(−(1/T) Σₜ ln pₜ), with pₜ the probability the model gave the token that came,
or 2^H for a cross-entropy H in bits. By hand the probabilities are powers of ½, so the
perplexity is a power of 2.

Sampling reshapes the next-token distribution, in this order (as Hugging Face's logits
processors apply them): temperature divides the logits, pᵢ ∝ e^(zᵢ/T), i.e. pᵢ^(1/T) for
probabilities given at T = 1; top-k keeps the k most probable tokens; top-p (nucleus) sorts
the remaining tokens by probability and keeps the shortest run from the top whose
probabilities, renormalised over what survived so far, add up to at least p; the kept
tokens are renormalised to sum to 1 and all others get 0. Draws keep clear of ties and of
cumulative sums near p, so the kept set never hangs on a rounding.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from drill.exercises.base import Difficulty, Exercise
from drill.exercises.common import (
    MAX_TRIES,
    choose,
    extras_wanted,
    fmt,
    fmt_array,
    pick,
    resample,
    useful_values,
)
from drill.exercises.screening import first_accepted_choice
from drill.exercises.slips import telling_slips

PARAMS_BY_NAME: dict[str, dict[str, tuple[Any, ...]]] = {
    "perplexity": {"given": ("probabilities", "loss")},
    "sampling": {"method": ("temperature", "top-k", "top-p", "combined")},
}

# --- perplexity ------------------------------------------------------------------------------


def perplexity(rng: np.random.Generator, difficulty: Difficulty, **params: Any) -> Exercise:
    hand = difficulty is Difficulty.HAND
    given = choose(rng, params, "given", ("probabilities", "probabilities", "loss"))
    if given == "probabilities":
        return _from_probabilities(rng, difficulty, hand)
    return _from_loss(rng, difficulty, hand)


PPL_RULE = "PPL = exp(−(1/T) Σₜ ln pₜ), natural log"


def _from_probabilities(rng: np.random.Generator, difficulty: Difficulty, hand: bool) -> Exercise:
    if hand:
        # Powers of ½ whose mean exponent is a multiple of ½: the answer is 2^k or 2^k·√2.
        tokens = pick(rng, (2, 3, 4))
        bits = resample(
            rng,
            lambda r: r.integers(0, 5, size=tokens),
            lambda b: b.any() and (2 * int(b.sum())) % tokens == 0,
        )
        p = 0.5**bits
    else:
        tokens = int(rng.integers(4, 9))
        p = np.round(rng.uniform(0.02, 0.95, size=tokens), 2)
    nll = -np.log(p)
    mean = float(nll.mean())
    answer = math.exp(mean)
    hint = ""
    if hand:
        mean_bits = float(bits.mean())
        if not mean_bits.is_integer():
            hint = useful_values([("√2", math.sqrt(2.0))])
    question = "\n".join(
        [
            f"A language model reads a text of T = {tokens} tokens. The probabilities it gave "
            "each token that actually came next are",
            f"  p = {fmt_array(p, 6)}",
            f"Its perplexity on the text is {PPL_RULE}.",
            *([hint] if hint else []),
            "What is the perplexity?",
        ]
    )
    solution = [
        f"−ln pₜ = {fmt_array(nll, 6)}",
        f"mean negative log-likelihood = {fmt(nll.sum(), 6)} / {tokens} = {fmt(mean, 6)} nats",
    ]
    if hand:
        solution.insert(0, f"Each pₜ = 2^(−bₜ) with bₜ = {fmt_array(bits)}, so −ln pₜ = bₜ·ln 2")
        solution.append(
            f"PPL = e^(mean) = 2^(mean bₜ) = 2^({fmt(float(bits.mean()), 6)}) = {fmt(answer, 6)}."
        )
    else:
        solution.append(f"PPL = e^{fmt(mean, 6)} = {fmt(answer, 6)}.")
    slips = {
        "1 / (arithmetic mean of p)": 1.0 / float(p.mean()),
        "arithmetic mean of 1/p": float((1.0 / p).mean()),
        "exp of the summed, not averaged, log-likelihood": math.exp(float(nll.sum())),
        "the mean negative log-likelihood, not its exponential": mean,
    }
    return _perplexity_exercise(
        difficulty,
        question,
        {"given": "probabilities", "log": "natural", "rule": PPL_RULE},
        {"p": p.tolist()},
        answer,
        solution,
        slips,
    )


def _from_loss(rng: np.random.Generator, difficulty: Difficulty, hand: bool) -> Exercise:
    unit = "bits" if hand else pick(rng, ("nats", "bits"))
    if hand:
        loss = float(pick(rng, (1, 2, 3, 4, 5, 6, 7, 8, 10)))
    else:
        loss = round(float(rng.uniform(1.2, 4.5) if unit == "nats" else rng.uniform(1.5, 6)), 2)
    base, other = (math.e, 2.0) if unit == "nats" else (2.0, math.e)
    answer = base**loss
    rule = "PPL = e^H for H in nats" if unit == "nats" else "PPL = 2^H for H in bits"
    base_text = "e" if unit == "nats" else "2"
    question = "\n".join(
        [
            f"A language model's mean cross-entropy on a held-out text is H = {fmt(loss)} "
            f"{unit} per token ({'natural log' if unit == 'nats' else 'log base 2'}).",
            f"Perplexity is the exponential of the mean negative log-likelihood: {rule}.",
            "What is its perplexity?",
        ]
    )
    solution = [f"PPL = {base_text}^H = {base_text}^{fmt(loss)} = {fmt(answer, 6)}."]
    slips = {
        f"{'2' if unit == 'nats' else 'e'}^H: the wrong base for a loss in {unit}": other**loss,
        "10^H": 10.0**loss,
        "H itself, not its exponential": loss,
    }
    return _perplexity_exercise(
        difficulty,
        question,
        {"given": "loss", "loss_unit": unit, "rule": rule},
        {"loss": loss},
        answer,
        solution,
        slips,
    )


def _perplexity_exercise(difficulty, question, spec, inputs, answer, solution, slips) -> Exercise:
    return Exercise(
        generator="perplexity",
        seed=0,
        difficulty=difficulty,
        question=question,
        spec=spec,
        inputs=inputs,
        asked={"value": "perplexity"},
        answer=answer,
        solution=solution,
        slips=telling_slips(slips, answer),
    )


# --- sampling -------------------------------------------------------------------------------

MIN_GAP = 0.005  # between two probabilities, and between a cumulative sum and top-p's p
MIN_DROPPED = 0.03  # the probability the filters remove, so that renormalising matters


@dataclass(frozen=True)
class Sampler:
    temperature: float = 1.0
    top_k: int | None = None
    top_p: float | None = None

    def filtered(self, base: np.ndarray) -> dict[str, np.ndarray]:
        """Each stage's distribution over all tokens, from probabilities at T = 1."""
        stages: dict[str, np.ndarray] = {}
        p = base ** (1.0 / self.temperature)
        p = p / p.sum()
        stages["temperature"] = p
        if self.top_k is not None:
            keep = np.zeros_like(p, dtype=bool)
            keep[np.argsort(-p, kind="stable")[: self.top_k]] = True
            p = np.where(keep, p, 0.0)
            p = p / p.sum()
            stages["top-k"] = p
        if self.top_p is not None:
            order = np.argsort(-p, kind="stable")
            cumulative = np.cumsum(p[order])
            count = int(np.searchsorted(cumulative, self.top_p - 1e-12)) + 1
            keep = np.zeros_like(p, dtype=bool)
            keep[order[:count]] = True
            p = np.where(keep, p, 0.0)
            p = p / p.sum()
            stages["top-p"] = p
        return stages

    def result(self, base: np.ndarray) -> np.ndarray:
        return list(self.filtered(base).values())[-1]

    def clear(self, base: np.ndarray) -> bool:
        """No tie among the probabilities, no cumulative sum near p, and filters that drop
        enough probability for renormalising to show: a well-posed draw."""
        stages = self.filtered(base)
        p = stages["temperature"]
        dropped = p[stages[list(stages)[-1]] == 0].sum()
        if len(stages) > 1 and dropped < MIN_DROPPED:
            return False
        gaps = np.diff(np.sort(p))
        if gaps.size and gaps.min() < MIN_GAP:
            return False
        if self.top_p is None:
            return True
        before = stages.get("top-k", p)
        cumulative = np.cumsum(np.sort(before[before > 0])[::-1])
        return bool(
            (np.abs(cumulative - self.top_p) >= MIN_GAP * 2).all()
            and cumulative[0] < self.top_p  # top-p keeps at least two tokens
            and np.count_nonzero(stages["top-p"]) < np.count_nonzero(before)  # and drops one
        )


def _hand_probabilities(rng: np.random.Generator) -> np.ndarray:
    """4 or 5 distinct multiples of 0.05 that add up to 1, in random order."""
    size = pick(rng, (4, 5))
    # 1 to 10 without repeats, drawn until they add up to 20 (a draw in 30 or so): what
    # resample of choice(np.arange(1, 11), …) draws, from the same stream, the draws
    # judged a block at a time.
    twentieths = 1 + first_accepted_choice(
        rng, 10, size, lambda draws: (draws + 1).sum(axis=1) == 20, MAX_TRIES
    )
    return twentieths / 20.0


def _sampler(rng: np.random.Generator, method: str, hand: bool, vocabulary: int) -> Sampler:
    temperatures = (0.5,) if hand else (0.5, 0.7, 0.8, 1.5, 2.0)
    top_k = int(rng.integers(2, vocabulary))
    top_p = pick(rng, (0.5, 0.6, 0.7, 0.8, 0.9)) if hand else pick(rng, (0.5, 0.7, 0.8, 0.9, 0.95))
    if method == "temperature":
        return Sampler(temperature=pick(rng, temperatures))
    if method == "top-k":
        return Sampler(temperature=1.0 if hand else pick(rng, (1.0, *temperatures)), top_k=top_k)
    if method == "top-p":
        return Sampler(temperature=1.0 if hand else pick(rng, (1.0, *temperatures)), top_p=top_p)
    return Sampler(temperature=pick(rng, (1.0, *temperatures)), top_k=top_k, top_p=top_p)


def sampling(rng: np.random.Generator, difficulty: Difficulty, **params: Any) -> Exercise:
    hand = difficulty is Difficulty.HAND
    method = choose(
        rng,
        params,
        "method",
        ("temperature", "top-k", "top-p")
        if hand
        else ("temperature", "top-k", "top-p", "combined"),
    )

    def draw_once(r: np.random.Generator) -> tuple[np.ndarray, np.ndarray | None, Sampler]:
        if hand:
            base = _hand_probabilities(r)
            logits = None
        else:
            logits = np.round(r.uniform(-3.0, 3.0, size=int(r.integers(5, 9))), 2)
            base = np.exp(logits - logits.max())
            base = base / base.sum()
        return base, logits, _sampler(r, method, hand, base.size)

    base, logits, sampler = resample(rng, draw_once, lambda c: c[2].clear(c[0]))
    stages = sampler.filtered(base)
    answer = stages[list(stages)[-1]]
    return Exercise(
        generator="sampling",
        seed=0,
        difficulty=difficulty,
        question=_sampling_question(base, logits, sampler),
        spec={
            "given": "probabilities" if logits is None else "logits",
            "temperature": sampler.temperature,
            "top_k": sampler.top_k,
            "top_p": sampler.top_p,
            "order": "temperature, then top-k, then top-p, then renormalise",
            "top_p_rule": "sort by probability, descending; keep the shortest prefix whose "
            "renormalised probabilities sum to at least top_p",
        },
        inputs={"p": base.tolist()} if logits is None else {"z": logits.tolist()},
        asked={"value": "probabilities"},
        answer=answer.tolist(),
        solution=_sampling_solution(base, logits, sampler, stages),
        slips=(
            telling_slips(_sampling_slips(base, sampler, answer), answer.tolist())
            if extras_wanted()
            else {}
        ),
    )


def _steps_text(sampler: Sampler, given_logits: bool) -> list[str]:
    lines = []
    if sampler.temperature != 1.0 or not (sampler.top_k or sampler.top_p):
        t = fmt(sampler.temperature)
        if given_logits:
            lines.append(f"  temperature T = {t}: pᵢ = e^(zᵢ/T) / Σⱼ e^(zⱼ/T)")
        else:
            lines.append(
                f"  temperature T = {t}: pᵢ ← pᵢ^(1/T) / Σⱼ pⱼ^(1/T) "
                "(the same as softmax(z/T) for the logits z behind p)"
            )
    elif given_logits:
        lines.append("  temperature T = 1: pᵢ = e^(zᵢ) / Σⱼ e^(zⱼ)")
    if sampler.top_k is not None:
        lines.append(
            f"  top-k with k = {sampler.top_k}: keep the {sampler.top_k} most probable "
            "tokens and renormalise them"
        )
    if sampler.top_p is not None:
        lines.append(
            f"  top-p (nucleus) with threshold {fmt(sampler.top_p)}: sort the tokens still in "
            "play by "
            "probability, highest first, and keep the shortest run from the top whose "
            f"probabilities add up to at least {fmt(sampler.top_p)} (the token that reaches it "
            "is kept); renormalise them"
        )
    return lines


def _sampling_question(base: np.ndarray, logits: np.ndarray | None, sampler: Sampler) -> str:
    v = base.size
    given = (
        f"  z = {fmt_array(logits)}  (logits)"
        if logits is not None
        else f"  p = {fmt_array(base)}  (probabilities at temperature 1)"
    )
    return "\n".join(
        [
            f"A language model's next-token distribution over V = {v} tokens (numbered 0 to "
            f"{v - 1}) is given by",
            given,
            "Before sampling, it is reshaped, in this order:",
            *_steps_text(sampler, logits is not None),
            *(
                ["Tokens that are not kept get probability 0."]
                if sampler.top_k or sampler.top_p
                else []
            ),
            f"Give the final probability of every token, as a vector of {v} numbers in token "
            "order.",
        ]
    )


STAGE_TEXT = {"temperature": "After temperature", "top-k": "After top-k", "top-p": "After top-p"}


def _sampling_solution(
    base: np.ndarray, logits: np.ndarray | None, sampler: Sampler, stages: dict[str, np.ndarray]
) -> list[str]:
    lines = []
    t = sampler.temperature
    if logits is not None:
        lines.append(f"z / T = {fmt_array(logits / t, 6)}")
        lines.append(f"softmax(z / T) = {fmt_array(stages['temperature'], 6)}")
    elif t != 1.0:
        powered = base ** (1.0 / t)
        lines.append(
            f"pᵢ^(1/T) = pᵢ^{fmt(1 / t)} = {fmt_array(powered, 6)}, sum {fmt(powered.sum(), 6)}"
        )
        lines.append(f"{STAGE_TEXT['temperature']}: {fmt_array(stages['temperature'], 6)}")
    order = np.argsort(-stages["temperature"], kind="stable")
    lines.append(f"Tokens from most to least probable: {', '.join(map(str, order))}")
    if "top-k" in stages:
        kept = [int(i) for i in order[: sampler.top_k]]
        lines.append(
            f"Top-k keeps tokens {_listed(kept)}; renormalised: {fmt_array(stages['top-k'], 6)}"
        )
    if "top-p" in stages:
        before = stages.get("top-k", stages["temperature"])
        ranked = [int(i) for i in np.argsort(-before, kind="stable") if before[i] > 0]
        running = np.cumsum(before[ranked])
        count = int(np.count_nonzero(stages["top-p"]))
        sums = ", ".join(f"{fmt(s, 4)}" for s in running[:count])
        lines.append(
            f"Cumulative sums from the top: {sums}: the first to reach "
            f"{fmt(sampler.top_p)} is at token {ranked[count - 1]}"
        )
        lines.append(
            f"Top-p keeps tokens {_listed(sorted(ranked[:count]))}; renormalised: "
            f"{fmt_array(stages['top-p'], 6)}"
        )
    lines.append(f"Final probabilities = {fmt_array(stages[list(stages)[-1]], 6)}.")
    return lines


def _listed(tokens: list[int]) -> str:
    return (
        ", ".join(map(str, tokens[:-1])) + f" and {tokens[-1]}"
        if len(tokens) > 1
        else str(tokens[0])
    )


def _sampling_slips(base: np.ndarray, sampler: Sampler, answer: np.ndarray) -> dict[str, Any]:
    slips: dict[str, Any] = {}
    stages = sampler.filtered(base)
    last = list(stages)[-1]
    if last != "temperature":
        # The kept tokens with the probabilities they had before filtering.
        slips["kept tokens not renormalised"] = np.where(answer > 0, stages["temperature"], 0.0)
    if sampler.temperature != 1.0:
        slips["temperature left out"] = Sampler(1.0, sampler.top_k, sampler.top_p).result(base)
        slips["logits multiplied by T instead of divided"] = Sampler(
            1.0 / sampler.temperature, sampler.top_k, sampler.top_p
        ).result(base)
    if sampler.top_p is not None and np.count_nonzero(answer) > 1:
        order = np.argsort(-answer, kind="stable")
        short = answer.copy()
        short[order[np.count_nonzero(answer) - 1]] = 0.0
        slips["top-p stopped before the token that reaches p"] = short / short.sum()
    if sampler.top_k is not None and sampler.top_p is not None:
        # top-p's sums taken over the probabilities before top-k renormalised them
        unrenormalised = np.where(stages["top-k"] > 0, stages["temperature"], 0.0)
        order = np.argsort(-unrenormalised, kind="stable")
        count = int(np.searchsorted(np.cumsum(unrenormalised[order]), sampler.top_p)) + 1
        keep = np.zeros_like(answer, dtype=bool)
        keep[order[: min(count, sampler.top_k)]] = True
        mixed = np.where(keep, stages["temperature"], 0.0)
        slips["top-p summed before top-k's renormalisation"] = mixed / mixed.sum()
    return slips


GENERATE: dict[str, Callable[..., Exercise]] = {
    "perplexity": perplexity,
    "sampling": sampling,
}
