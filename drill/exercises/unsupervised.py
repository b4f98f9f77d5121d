"""kmeans-step and pca-variance: one Lloyd iteration, and the variance principal components keep.

k-means (Lloyd's algorithm), one step: assign each point to its nearest centroid by
squared Euclidean distance, then move each centroid to the mean of its points. Draws
keep every point clearly nearer one centroid than the others and no cluster empty.

PCA: the variance along principal component i is the covariance matrix's i-th largest
eigenvalue λᵢ; for a centred data matrix X (n×d) with singular values sᵢ, λᵢ = sᵢ²/(n − 1),
so each component's share of the variance is sᵢ² / Σⱼ sⱼ². A 2×2 covariance
[[a, b], [b, c]] has λ = (a + c)/2 ± √(((a − c)/2)² + b²); by hand the root is exact.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from drill.exercises.base import Difficulty, Exercise, Tolerance
from drill.exercises.common import (
    choose,
    extras_wanted,
    fmt,
    fmt_array,
    pick,
    resample,
)
from drill.exercises.slips import telling_slips

PARAMS_BY_NAME: dict[str, dict[str, tuple[Any, ...]]] = {
    "kmeans-step": {"asked": ("centroid", "inertia"), "clusters": (2, 3)},
    "pca-variance": {"asked": ("covariance", "singular-values", "components")},
}

# --- kmeans-step -----------------------------------------------------------------------------


def squared_distances(points: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """(n, k): the squared Euclidean distance from each point to each centroid."""
    return ((points[:, None, :] - centroids[None, :, :]) ** 2).sum(axis=2)


def lloyd_step(points: np.ndarray, centroids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(assignment of each point, new centroids): one assignment and one update."""
    assignment = squared_distances(points, centroids).argmin(axis=1)
    new = np.array([points[assignment == j].mean(axis=0) for j in range(len(centroids))])
    return assignment, new


def _well_posed(
    points: np.ndarray, centroids: np.ndarray, asked: int, margin: float, move: float
) -> bool:
    """Every point clearly nearest one centroid, no cluster empty, centroid `asked` moves."""
    d = squared_distances(points, centroids)
    nearest_two = np.sort(d, axis=1)[:, :2]
    if (nearest_two[:, 1] - nearest_two[:, 0] < margin).any():
        return False
    if len(set(d.argmin(axis=1).tolist())) < len(centroids):
        return False
    _, new = lloyd_step(points, centroids)
    return bool(np.abs(new[asked] - centroids[asked]).max() >= move)


def kmeans_step(rng: np.random.Generator, difficulty: Difficulty, **params: Any) -> Exercise:
    hand = difficulty is Difficulty.HAND
    asked = choose(rng, params, "asked", ("centroid", "centroid", "inertia"))
    k = choose(rng, params, "clusters", (2,) if hand else (2, 3))
    n = pick(rng, (5, 6)) if hand else int(rng.integers(6, 9))
    j = int(rng.integers(k))

    def draw_once(r: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        if hand:
            return (
                r.integers(-4, 5, size=(n, 2)).astype(float),
                r.integers(-4, 5, size=(k, 2)).astype(float),
            )
        return (
            np.round(r.uniform(-5.0, 5.0, size=(n, 2)), 2),
            np.round(r.uniform(-4.0, 4.0, size=(k, 2)), 2),
        )

    points, centroids = resample(
        rng,
        draw_once,
        lambda c: _well_posed(*c, j, 1.0 if hand else 0.5, 0.5 if hand else 0.1),
    )
    assignment, new = lloyd_step(points, centroids)
    slips: dict[str, Any] = {}
    if asked == "centroid":
        answer: Any = new[j].tolist()
        asked_json: dict[str, Any] = {"value": "centroid", "index": [j]}
        if extras_wanted():
            manhattan = np.abs(points[:, None, :] - centroids[None, :, :]).sum(axis=2).argmin(1)
            slips = {
                "centroid not moved": centroids[j],
                "mean of all the points": points.mean(axis=0),
            }
            if (manhattan == j).any():
                slips["points assigned by |Δx| + |Δy| distance"] = points[manhattan == j].mean(0)
            slips = telling_slips(slips, answer)
    else:
        answer = float(((points - new[assignment]) ** 2).sum())
        asked_json = {"value": "inertia"}
        if extras_wanted():
            distances = np.sqrt(((points - new[assignment]) ** 2).sum(axis=1))
            slips = telling_slips(
                {
                    "distances to the old centroids": float(
                        ((points - centroids[assignment]) ** 2).sum()
                    ),
                    "distances not squared": float(distances.sum()),
                    "mean instead of sum": answer / n,
                },
                answer,
            )
    return Exercise(
        generator="kmeans-step",
        seed=0,
        difficulty=difficulty,
        question=_kmeans_question(points, centroids, asked, j),
        spec={
            "asked": asked,
            "distance": "squared Euclidean",
            "update": "each centroid moves to the mean of the points assigned to it",
            "inertia": "Σ over points of the squared distance to its cluster's new centroid",
        },
        inputs={"X": points.tolist(), "C": centroids.tolist()},
        asked=asked_json,
        answer=answer,
        solution=_kmeans_solution(points, centroids, assignment, new, asked, j, answer),
        slips=slips,
    )


def _kmeans_question(points: np.ndarray, centroids: np.ndarray, asked: str, j: int) -> str:
    k = len(centroids)
    wanted = (
        f"Where is centroid c{j} after this step? Give its two coordinates."
        if asked == "centroid"
        else "What is the inertia after this step: the sum over all points of the squared "
        "distance to the new centroid of its cluster?"
    )
    return "\n".join(
        [
            f"k-means with k = {k} runs one step of Lloyd's algorithm on {len(points)} points in "
            "the plane:",
            "  1. assign each point to the nearest centroid (squared Euclidean distance);",
            "  2. move each centroid to the mean of the points assigned to it.",
            "Points (rows of X, numbered from 0):",
            *(f"  x{i} = ({fmt(x)}, {fmt(y)})" for i, (x, y) in enumerate(points)),
            "Centroids before the step:",
            *(f"  c{i} = ({fmt(x)}, {fmt(y)})" for i, (x, y) in enumerate(centroids)),
            wanted,
        ]
    )


def _kmeans_solution(points, centroids, assignment, new, asked, j, answer) -> list[str]:
    d = squared_distances(points, centroids)
    lines = ["Squared distances to the centroids, and the nearest:"]
    for i, row in enumerate(d):
        shown = ", ".join(f"c{c}: {fmt(v, 6)}" for c, v in enumerate(row))
        lines.append(f"  x{i}: {shown} → c{assignment[i]}")
    for c in range(len(centroids)):
        members = [f"x{i}" for i in np.flatnonzero(assignment == c)]
        lines.append(
            f"New c{c} = mean of {', '.join(members)} = ({fmt(new[c][0], 6)}, {fmt(new[c][1], 6)})"
        )
    if asked == "centroid":
        lines.append(f"So c{j} = {fmt_array(answer, 6)}.")
        return lines
    terms = ((points - new[assignment]) ** 2).sum(axis=1)
    lines.append(f"Squared distances to the new centroids: {fmt_array(terms, 6)}")
    lines.append(f"Inertia = {fmt(answer, 6)}.")
    return lines


# --- pca-variance ----------------------------------------------------------------------------

PYTHAGOREAN = ((3, 4, 5), (4, 3, 5), (5, 12, 13), (12, 5, 13), (0, 1, 1))


def _hand_covariance(rng: np.random.Generator) -> np.ndarray:
    """[[a, b], [b, c]] with ((a − c)/2)² + b² a perfect square, so λ is exact."""
    half_gap, b, root = pick(rng, PYTHAGOREAN)
    t = pick(rng, (0.5, 1.0)) if root < 13 else 0.5
    middle = float(rng.integers(int(root * t) + 1, int(root * t) + 8))
    b = b * t * pick(rng, (1, -1))
    a, c = middle + half_gap * t, middle - half_gap * t
    if rng.random() < 0.5:
        a, c = c, a
    return np.array([[a, b], [b, c]])


def _calc_covariance(rng: np.random.Generator) -> np.ndarray:
    def draw_once(r: np.random.Generator) -> np.ndarray:
        a, c = np.round(r.uniform(0.5, 6.0, size=2), 2)
        b = round(float(r.uniform(-0.95, 0.95) * math.sqrt(a * c)), 2)
        return np.array([[a, b], [b, c]])

    return resample(rng, draw_once, lambda m: abs(m[0, 1]) >= 0.05)


def _eigenvalues(cov: np.ndarray) -> tuple[float, float]:
    a, b, c = cov[0, 0], cov[0, 1], cov[1, 1]
    mid, root = (a + c) / 2, math.sqrt(((a - c) / 2) ** 2 + b * b)
    return mid + root, mid - root


def pca_variance(rng: np.random.Generator, difficulty: Difficulty, **params: Any) -> Exercise:
    hand = difficulty is Difficulty.HAND
    asked = choose(rng, params, "asked", ("covariance", "singular-values", "components"))
    build = {
        "covariance": _covariance_share,
        "singular-values": _leading_share,
        "components": _components_needed,
    }[asked]
    question, inputs, asked_json, answer, solution, slips, tolerance = build(rng, hand)
    return Exercise(
        generator="pca-variance",
        seed=0,
        difficulty=difficulty,
        question=question,
        spec={
            "asked": asked,
            "centred": True,
            "rule": "component i keeps variance λᵢ (eigenvalue of the covariance) = sᵢ²/(n − 1); "
            "its share is λᵢ / Σⱼ λⱼ = sᵢ² / Σⱼ sⱼ²",
        },
        inputs=inputs,
        asked=asked_json,
        answer=answer,
        tolerance=tolerance,
        solution=solution,
        slips=slips,
    )


def _covariance_share(rng: np.random.Generator, hand: bool):
    cov = _hand_covariance(rng) if hand else _calc_covariance(rng)
    (a, b), (_, c) = cov
    big, small = _eigenvalues(cov)
    answer = float(big / (big + small))
    question = "\n".join(
        [
            "Two features have the covariance matrix",
            f"  Σ = [[{fmt(a)}, {fmt(b)}], [{fmt(b)}, {fmt(c)}]]",
            "The eigenvalues of a symmetric 2×2 matrix [[a, b], [b, c]] are "
            "λ = (a + c)/2 ± √(((a − c)/2)² + b²).",
            "What fraction of the total variance does the first principal component explain?",
        ]
    )
    root = math.sqrt(((a - c) / 2) ** 2 + b * b)
    solution = [
        f"(a + c)/2 = {fmt((a + c) / 2, 6)}, √(((a − c)/2)² + b²) = "
        f"√({fmt(((a - c) / 2) ** 2, 6)} + {fmt(b * b, 6)}) = {fmt(root, 6)}",
        f"λ₁ = {fmt(big, 6)}, λ₂ = {fmt(small, 6)}; total variance = a + c = λ₁ + λ₂ = "
        f"{fmt(a + c, 6)}",
        f"Share of PC1 = λ₁ / (λ₁ + λ₂) = {fmt(big, 6)} / {fmt(big + small, 6)} = "
        f"{fmt(answer, 6)}.",
    ]
    slips = telling_slips(
        {
            "the larger variance's share, covariance ignored": max(a, c) / (a + c),
            "the second component's share": small / (big + small),
            "standard deviations √λ instead of variances": math.sqrt(big)
            / (math.sqrt(big) + math.sqrt(max(small, 0.0))),
        },
        answer,
    )
    inputs = {"cov": cov.tolist()}
    return (
        question,
        inputs,
        {"value": "explained_variance_ratio"},
        answer,
        solution,
        slips,
        (Tolerance()),
    )


def _singular_values(rng: np.random.Generator, hand: bool, size: int) -> np.ndarray:
    """`size` distinct singular values, largest first: small integers by hand."""
    if hand:
        return np.sort(rng.choice(np.arange(1, 9), size=size, replace=False))[::-1].astype(float)
    return resample(
        rng,
        lambda r: np.round(np.sort(r.uniform(0.1, 20.0, size=size))[::-1], 2),
        lambda s: bool((np.diff(s) < 0).all()),
    )


def _data_text(size: int, s: np.ndarray) -> list[str]:
    return [
        f"A centred data matrix X (n rows, {size} features) has singular values",
        f"  s = {fmt_array(s)}",
        "Principal component i keeps the variance λᵢ = sᵢ²/(n − 1).",
    ]


def _leading_share(rng: np.random.Generator, hand: bool):
    size = pick(rng, (3, 4)) if hand else pick(rng, (4, 5, 6))
    s = _singular_values(rng, hand, size)
    k = int(rng.integers(1, size))
    squares = s**2
    answer = float(squares[:k].sum() / squares.sum())
    first = (
        "does the first principal component" if k == 1 else f"do the first {k} principal components"
    )
    question = "\n".join(
        [*_data_text(size, s), f"What fraction of the total variance {first} keep?"]
    )
    solution = [
        f"sᵢ² = {fmt_array(squares, 6)}, total {fmt(squares.sum(), 6)}",
        f"Share = ({' + '.join(fmt(v, 6) for v in squares[:k])}) / {fmt(squares.sum(), 6)} = "
        f"{fmt(answer, 6)}.",
    ]
    slips = telling_slips(
        {
            "singular values not squared": float(s[:k].sum() / s.sum()),
            f"component {k} alone": float(squares[k - 1] / squares.sum()),
        },
        answer,
    )
    inputs = {"s": s.tolist(), "k": k}
    return (
        question,
        inputs,
        {"value": "explained_variance_ratio"},
        answer,
        solution,
        slips,
        (Tolerance()),
    )


def components_for(values: np.ndarray, threshold: float) -> int:
    shares = np.cumsum(values) / values.sum()
    return int(np.argmax(shares >= threshold - 1e-12)) + 1


def _components_needed(rng: np.random.Generator, hand: bool):
    size = pick(rng, (4, 5)) if hand else pick(rng, (5, 6, 7, 8))
    threshold = pick(rng, (0.8, 0.9, 0.95) if hand else (0.8, 0.9, 0.95, 0.99))

    def clear(s: np.ndarray) -> bool:
        shares = np.cumsum(s**2) / (s**2).sum()
        return bool((np.abs(shares - threshold) >= 0.005).all()) and shares[-2] > threshold

    s = resample(rng, lambda r: _singular_values(r, hand, size), clear)
    squares = s**2
    answer = components_for(squares, threshold)
    shares = np.cumsum(squares) / squares.sum()
    question = "\n".join(
        [
            *_data_text(size, s),
            f"How many principal components, taken from the largest, are needed to keep at "
            f"least {fmt(threshold * 100)}% of the total variance?",
        ]
    )
    solution = [
        f"sᵢ² = {fmt_array(squares, 6)}, total {fmt(squares.sum(), 6)}",
        f"Cumulative shares: {fmt_array(shares, 4)}",
        f"The first share at or above {fmt(threshold)} is number {answer}: "
        f"components needed = {answer}.",
    ]
    slips = telling_slips(
        {
            "singular values not squared": components_for(s, threshold),
            "the last count still below the threshold": answer - 1,
        },
        answer,
        Tolerance(exact=True),
    )
    inputs = {"s": s.tolist(), "threshold": threshold}
    return question, inputs, {"value": "components"}, answer, solution, slips, Tolerance(exact=True)


GENERATE: dict[str, Callable[..., Exercise]] = {
    "kmeans-step": kmeans_step,
    "pca-variance": pca_variance,
}
