"""LLM arithmetic, sampling and preference losses; classical ML and statistics.

Each answer is derived again here from the exercise's JSON alone (inputs, spec, asked) by
other means than the generator's: byte counts as products of the JSON's sizes, the
compute-optimal size by root finding, perplexity as a geometric mean, sampling by walking
the sorted tokens, gradients by autograd, k-means assignments by scipy's vector
quantiser, PCA shares from the eigenvalues of a data matrix built to have the given
singular values, ROC-AUC from the Mann–Whitney U statistic, Bayes by enumerating the
joint distribution, and the z-test from scipy's chi-squared test on the 2×2 table.
"""

from __future__ import annotations

import itertools
import json
import math

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad
from generator_support import arrays, exercises_for
from scipy import optimize, special, stats
from scipy.cluster.vq import vq

from drill.exercises import Difficulty, Exercise, make, registry
from drill.exercises.grading import check, close, format_value

MINE = [
    "kv-cache-memory",
    "training-memory",
    "training-flops",
    "lora-params",
    "perplexity",
    "sampling",
    "dpo-loss",
    "infonce-loss",
    "kmeans-step",
    "pca-variance",
    "classification-metrics",
    "bayes-posterior",
    "ab-test",
]
SEEDS = range(80)
DIFFICULTIES = [Difficulty.HAND, Difficulty.CALC]


def exercises(name: str):
    for difficulty in DIFFICULTIES:
        yield from exercises_for(name, difficulty, SEEDS)


# --- independent derivations ---------------------------------------------------------------

BYTES_IN = {"bytes": 1, "MiB": 1024**2, "GiB": 1024**3, "GB": 1000**3}


def kv_cache(ex: Exercise):
    sizes = ex.inputs
    assert set(sizes) == {"layers", "kv_heads", "head_dim", "seq_len", "batch", "bytes_per_value"}
    # One key and one value tensor per layer, each of shape (batch, kv_heads, seq_len, head_dim).
    shape = (sizes["batch"], sizes["kv_heads"], sizes["seq_len"], sizes["head_dim"])
    total = 2 * sizes["layers"] * math.prod(shape) * sizes["bytes_per_value"]
    return total if ex.spec["unit"] == "bytes" else total / BYTES_IN[ex.spec["unit"]]


OPTIMIZER_STATES = {"master_weights", "adam_m", "adam_v", "momentum"}


def training_memory(ex: Exercise) -> float:
    n, gpus, per = ex.inputs["params"], ex.inputs["gpus"], ex.inputs["bytes_per_param"]
    stage = ex.spec["zero_stage"]
    sharded = set()
    if stage >= 1:
        sharded |= OPTIMIZER_STATES & set(per)
    if stage >= 2:
        sharded.add("gradients")
    if stage >= 3:
        sharded.add("weights")
    assert sharded == set(ex.spec["sharded"])
    expected_states = {
        "mixed": {"weights": 2, "gradients": 2, "master_weights": 4},
        "fp32": {"weights": 4, "gradients": 4},
    }[ex.spec["precision"]]
    expected_states |= (
        {"adam_m": 4, "adam_v": 4} if ex.spec["optimizer"] == "adam" else {"momentum": 4}
    )
    assert per == expected_states
    total = sum(n * b / (gpus if state in sharded else 1) for state, b in per.items())
    return total / BYTES_IN[ex.spec["unit"]]


def training_flops(ex: Exercise) -> float:
    inputs, ask = ex.inputs, ex.spec["ask"]
    if ask == "flops":
        return 6 * inputs["params"] * inputs["tokens"]
    if ask == "tokens":
        return 20 * inputs["params"]
    if ask == "compute-optimal":
        c = inputs["compute"]
        # The N whose compute-optimal run (D = 20 N) spends C = 6 N D, by root finding.
        n = optimize.brentq(lambda n: math.log(6 * n * 20 * n) - math.log(c), 1.0, 1e16, xtol=1e-3)
        return n if ex.asked["value"] == "params" else 20 * n
    seconds = (
        6
        * inputs["params"]
        * inputs["tokens"]
        / (inputs["gpus"] * inputs["peak_flops_per_gpu"] * inputs["mfu"])
    )
    return seconds / (24 * 60 * 60)


def lora_params(ex: Exercise) -> int:
    inputs = ex.inputs
    r = inputs["rank"]
    if "model" in inputs:
        m = inputs["model"]
        q, kv = m["heads"] * m["head_dim"], m["kv_heads"] * m["head_dim"]
        d, ff = m["d_model"], m["d_ff"]
        shapes = {"W_q": [q, d], "W_k": [kv, d], "W_v": [kv, d], "W_o": [d, q]}
        shapes |= {"W_gate": [ff, d], "W_up": [ff, d], "W_down": [d, ff]}
        assert inputs["matrices"] == {name: shapes[name] for name in ex.spec["targets"]}
    total = 0
    for d_out, d_in in inputs["matrices"].values():
        b, a = np.empty((d_out, r), np.int8), np.empty((r, d_in), np.int8)  # ΔW = B A
        assert np.broadcast_shapes(b[:, :1].shape, a[:1, :].shape) == (d_out, d_in)
        total += b.size + a.size
    return inputs["layers"] * total


def perplexity(ex: Exercise) -> float:
    if ex.spec["given"] == "probabilities":
        return 1.0 / stats.gmean(ex.inputs["p"])
    base = math.e if ex.spec["loss_unit"] == "nats" else 2.0
    return base ** ex.inputs["loss"]


def sampling(ex: Exercise) -> list[float]:
    spec = ex.spec
    if spec["given"] == "logits":
        p = special.softmax(np.array(ex.inputs["z"]) / spec["temperature"])
    else:
        p = np.array(ex.inputs["p"]) ** (1 / spec["temperature"])
        p = p / p.sum()
    alive = set(range(p.size))
    if spec["top_k"] is not None:
        alive = set(sorted(alive, key=lambda i: -p[i])[: spec["top_k"]])
    if spec["top_p"] is not None:
        total = sum(p[i] for i in alive)
        kept, mass = set(), 0.0
        for i in sorted(alive, key=lambda i: -p[i]):
            kept.add(i)
            mass += p[i] / total
            if mass >= spec["top_p"]:
                break
        alive = kept
    total = sum(p[i] for i in alive)
    return [p[i] / total if i in alive else 0.0 for i in range(p.size)]


def dpo_loss_of(v, spec):
    margin = (v["policy_chosen"] - v["ref_chosen"]) - (v["policy_rejected"] - v["ref_rejected"])
    return anp.logaddexp(0.0, -spec["beta"] * margin)


def dpo(ex: Exercise) -> float:
    values = {k: float(v) for k, v in ex.inputs.items()}
    if ex.asked == {"value": "loss"}:
        return float(dpo_loss_of(values, ex.spec))
    wrt = ex.asked["wrt"]
    return float(grad(lambda x: dpo_loss_of({**values, wrt: x}, ex.spec))(values[wrt]))


def infonce_loss_of(p, spec):
    s = anp.dot(p["K"], p["q"]) / spec["temperature"]
    top = anp.max(s)
    return top + anp.log(anp.sum(anp.exp(s - top))) - s[spec["positive"]]


def infonce(ex: Exercise) -> float:
    p = arrays(ex.inputs)
    if ex.asked == {"value": "loss"}:
        s = p["K"] @ p["q"] / ex.spec["temperature"]
        return float(special.logsumexp(s) - s[ex.spec["positive"]])
    gradient = grad(lambda q: infonce_loss_of({**p, "q": q}, ex.spec))(p["q"])
    return float(gradient[tuple(ex.asked["index"])])


def kmeans(ex: Exercise):
    points, centroids = arrays(ex.inputs)["X"], arrays(ex.inputs)["C"]
    codes, _ = vq(points, centroids)
    new = np.array([points[codes == j].mean(axis=0) for j in range(len(centroids))])
    if ex.asked["value"] == "centroid":
        return new[ex.asked["index"][0]].tolist()
    return float(sum(np.sum((x - new[c]) ** 2) for x, c in zip(points, codes, strict=True)))


def data_with_singular_values(s: np.ndarray, rows: int = 12) -> np.ndarray:
    """A centred (rows × d) matrix whose singular values are `s`, with random directions."""
    rng = np.random.default_rng(len(s))
    raw = rng.normal(size=(rows, len(s)))
    u, _ = np.linalg.qr(raw - raw.mean(axis=0))  # columns orthonormal and orthogonal to 1
    v, _ = np.linalg.qr(rng.normal(size=(len(s), len(s))))
    return u @ np.diag(s) @ v.T


def pca(ex: Exercise):
    asked = ex.spec["asked"]
    if asked == "covariance":
        eigenvalues = np.linalg.eigvalsh(np.array(ex.inputs["cov"]))
        return float(eigenvalues.max() / eigenvalues.sum())
    x = data_with_singular_values(np.array(ex.inputs["s"]))
    variances = np.sort(np.linalg.eigvalsh(np.cov(x, rowvar=False)))[::-1]
    shares = np.cumsum(variances) / variances.sum()
    if asked == "singular-values":
        return float(shares[ex.inputs["k"] - 1])
    return int(np.flatnonzero(shares >= ex.inputs["threshold"] - 1e-12)[0]) + 1


def metrics(ex: Exercise) -> float:
    metric = ex.spec["metric"]
    if metric == "auc":
        labels, scores = np.array(ex.inputs["labels"]), np.array(ex.inputs["scores"])
        u = stats.mannwhitneyu(scores[labels == 1], scores[labels == 0]).statistic
        return float(u / (np.sum(labels == 1) * np.sum(labels == 0)))
    c = ex.inputs
    # One row per example: (actual, predicted).
    rows = [(1, 1)] * c["tp"] + [(1, 0)] * c["fn"] + [(0, 1)] * c["fp"] + [(0, 0)] * c["tn"]
    actual, predicted = np.array(rows).T
    hits = actual == predicted
    precision = hits[predicted == 1].mean()
    recall = hits[actual == 1].mean()
    return float(
        {
            "precision": precision,
            "recall": recall,
            "f1": stats.hmean([precision, recall]),
            "accuracy": hits.mean(),
            "specificity": hits[actual == 0].mean(),
        }[metric]
    )


def bayes(ex: Exercise) -> float:
    prior, sens, spec = (ex.inputs[k] for k in ("prior", "sensitivity", "specificity"))
    tests = 2 if ex.spec["observed"] == "two-positives" else 1
    wanted = (False,) if ex.spec["observed"] == "negative" else (True,) * tests
    joint = {}
    for condition in (True, False):
        for results in itertools.product((True, False), repeat=tests):
            p = prior if condition else 1 - prior
            for positive in results:
                hit = sens if condition else 1 - spec
                p *= hit if positive else 1 - hit
            joint[condition, results] = p
    evidence = sum(p for (_, results), p in joint.items() if results == wanted)
    return joint[True, wanted] / evidence


def ab_test(ex: Exercise):
    inputs, asked = ex.inputs, ex.spec["asked"]
    if asked == "sample-size":
        n = (
            (inputs["z_alpha"] + inputs["z_power"]) ** 2
            * (inputs["p1"] * (1 - inputs["p1"]) + inputs["p2"] * (1 - inputs["p2"]))
            / (inputs["p2"] - inputs["p1"]) ** 2
        )
        # Rounded up; 196.00000000003 from binary rounding of decimals is still 196.
        if ex.difficulty is Difficulty.CALC:
            ppf = stats.norm.ppf  # the question's quantiles agree with scipy's to 4 decimals
            alpha, power = inputs["alpha"], inputs["power"]
            assert inputs["z_alpha"] == pytest.approx(ppf(1 - alpha / 2), abs=5e-5)
            assert inputs["z_power"] == pytest.approx(ppf(power), abs=5e-5)
        return math.ceil(round(n, 6))
    a, b = inputs["conversions_a"], inputs["conversions_b"]
    table = [[a, inputs["n_a"] - a], [b, inputs["n_b"] - b]]
    chi2, p_value, _, _ = stats.chi2_contingency(table, correction=False)
    if asked == "z":
        return math.copysign(math.sqrt(chi2), b / inputs["n_b"] - a / inputs["n_a"])
    return p_value


DERIVE = {
    "kv-cache-memory": kv_cache,
    "training-memory": training_memory,
    "training-flops": training_flops,
    "lora-params": lora_params,
    "perplexity": perplexity,
    "sampling": sampling,
    "dpo-loss": dpo,
    "infonce-loss": infonce,
    "kmeans-step": kmeans,
    "pca-variance": pca,
    "classification-metrics": metrics,
    "bayes-posterior": bayes,
    "ab-test": ab_test,
}


@pytest.mark.parametrize("name", MINE)
def test_answer_matches_an_independent_derivation(name):
    for ex in exercises(name):
        expected = DERIVE[name](ex)
        if ex.tolerance.exact:
            assert type(ex.answer) is int, (ex.seed, ex.answer)
            assert ex.answer == expected, (ex.seed, ex.difficulty, ex.answer, expected)
        else:
            rtol = 1e-6 if name == "training-flops" else 1e-9  # root finding's tolerance
            np.testing.assert_allclose(ex.answer, expected, rtol=rtol, atol=1e-12)


@pytest.mark.parametrize("name", ["dpo-loss", "infonce-loss"])
def test_gradients_agree_with_autograd_over_many_seeds(name):
    for difficulty in DIFFICULTIES:
        for seed in range(300):
            ex = make(name, seed, {"asked": "gradient"}, difficulty)
            assert "wrt" in ex.asked
            expected = DERIVE[name](ex)
            assert ex.answer == pytest.approx(expected, rel=1e-9, abs=1e-12), (seed, difficulty)


@pytest.mark.parametrize("name", MINE)
def test_the_contract_holds(name):
    for ex in exercises(name):
        assert ex.generator == name
        assert ex.question.strip() and ex.solution and ex.asked
        # The last solution line ends in the asked number, which the grader accepts.
        shown = ex.solution[-1].rsplit("= ", 1)[-1].rstrip(".")
        assert check(shown, ex).correct, (ex.seed, ex.solution[-1])
        assert check(format_value(ex.answer), ex).correct
        again = Exercise.from_dict(json.loads(ex.to_json()))
        assert again.to_dict() == ex.to_dict()


@pytest.mark.parametrize("name", MINE)
def test_slips_are_graded_wrong_and_named(name):
    named = 0
    for ex in exercises(name):
        for description, slipped in ex.slips.items():
            verdict = check(format_value(slipped), ex)
            assert not verdict.correct, (ex.seed, description)
            assert verdict.slip is not None, (ex.seed, description)
            named += 1
    assert named >= len(SEEDS), "most exercises name a slip or more"


@pytest.mark.parametrize("name", MINE)
def test_same_seed_same_exercise_and_seeds_vary(name):
    for difficulty in DIFFICULTIES:
        for seed in (0, 7, 12345):
            assert make(name, seed, difficulty=difficulty) == make(
                name, seed, difficulty=difficulty
            )
    assert len({make(name, seed).question for seed in range(20)}) >= 10


@pytest.mark.parametrize("name", MINE)
def test_every_param_value_is_honoured(name):
    for key, values in registry.accepted_params(name).items():
        for value in values:
            for difficulty in DIFFICULTIES:
                try:
                    ex = make(name, 3, {key: value}, difficulty)
                except registry.BadParams:
                    continue
                assert _pinned(ex, key) == value, (key, value)


def _pinned(ex: Exercise, key: str):
    """Where each generator's JSON shows the value of its param `key`."""
    if ex.generator == "kv-cache-memory":
        return ex.spec[key]
    if ex.generator == "training-memory":
        return ex.spec["zero_stage"] if key == "zero" else ex.spec[key]
    if ex.generator == "lora-params" and key == "targets":
        names = {"qv": ["W_q", "W_v"], "qkvo": ["W_q", "W_k", "W_v", "W_o"]}
        shown = ex.spec["targets"]
        return next((k for k, v in names.items() if v == shown), "all" if len(shown) == 7 else "")
    if ex.generator == "sampling":
        spec = ex.spec
        steps = [spec["top_k"] is not None, spec["top_p"] is not None]
        return {(False, False): "temperature", (True, False): "top-k", (False, True): "top-p"}.get(
            tuple(steps), "combined"
        )
    if ex.generator in ("dpo-loss", "infonce-loss"):
        return ex.spec["asked"]
    if ex.generator == "kmeans-step":
        return len(ex.inputs["C"]) if key == "clusters" else ex.asked["value"]
    return ex.spec[{"ask": "ask", "scope": "scope", "observed": "observed"}.get(key, key)]


# --- difficulty -------------------------------------------------------------------------------


def test_hand_numbers_are_workable():
    for ex in exercises_for("kv-cache-memory", Difficulty.HAND, SEEDS):
        assert math.log2(ex.answer).is_integer() or ex.spec["unit"] == "bytes"
    for ex in exercises_for("sampling", Difficulty.HAND, SEEDS):
        p = np.array(ex.inputs["p"])
        assert np.allclose(p * 20, np.round(p * 20)) and math.isclose(p.sum(), 1.0)
    for ex in exercises_for("kmeans-step", Difficulty.HAND, SEEDS):
        assert np.array_equal(np.array(ex.inputs["X"]), np.round(ex.inputs["X"]))
    for ex in exercises_for("perplexity", Difficulty.HAND, SEEDS):
        doubled = 2 * math.log2(ex.answer)  # 2^k or 2^k·√2
        assert math.isclose(doubled, round(doubled)), ex.answer
    for ex in exercises_for("dpo-loss", Difficulty.HAND, SEEDS):
        assert all(float(v).is_integer() for v in ex.inputs.values())
    hand = {ex.spec["asked"] for ex in exercises_for("ab-test", Difficulty.HAND, SEEDS)}
    assert hand == {"z", "sample-size"}  # a p-value needs a normal table


def test_calc_uses_harder_numbers():
    calc = exercises_for("kmeans-step", Difficulty.CALC, SEEDS)
    assert not all(
        np.array_equal(np.array(ex.inputs["X"]), np.round(ex.inputs["X"])) for ex in calc
    )
    assert {ex.spec["given"] for ex in exercises_for("sampling", Difficulty.CALC, SEEDS)} == {
        "logits"
    }
    units = {ex.spec["unit"] for ex in exercises_for("training-memory", Difficulty.CALC, SEEDS)}
    assert units == {"GB", "GiB"}


# --- what each exercise is built to teach -------------------------------------------------------


def test_kv_cache_counts_key_value_heads_not_query_heads():
    gqa = [ex for ex in exercises("kv-cache-memory") if ex.spec["attention"] == "gqa"]
    assert gqa
    for ex in gqa:
        assert ex.spec["heads"] > ex.inputs["kv_heads"]
        assert "query heads counted instead of key/value heads" in ex.slips
    for ex in exercises("kv-cache-memory"):
        if ex.spec["attention"] == "mqa":
            assert ex.inputs["kv_heads"] == 1
        if ex.spec["unit"] == "bytes":
            assert ex.tolerance.exact and type(ex.answer) is int
        else:
            assert f"Give it in {ex.spec['unit']} (1 {ex.spec['unit']} = 2" in ex.question


def test_known_sizes():
    from drill.exercises.llm_memory import Cache, Training, _bytes_per_param
    from drill.exercises.llm_scale import lora_count

    # Llama 3 8B: 32 layers, 8 KV heads of dimension 128, bf16: 128 KiB per token.
    assert Cache(32, 32, 8, 128, 1, 1, 2).total == 131_072
    # A 7B model under mixed-precision Adam: 16 bytes per parameter, 112 GB.
    assert Training(7 * 10**9, 1, 0, _bytes_per_param("mixed", "adam")).total() == 112e9
    # ZeRO stage 3 on 64 GPUs: 16 bytes / 64 per parameter on each GPU.
    assert Training(64 * 10**9, 64, 3, _bytes_per_param("mixed", "adam")).total() == 16e9
    # LoRA rank 8 on a 4096 × 4096 matrix: 8·(4096 + 4096).
    assert lora_count({"W": (4096, 4096)}, 8, 1) == 65_536


def test_chinchilla_70b_wants_about_1_4_trillion_tokens():
    for seed in range(40):
        ex = make("training-flops", seed, {"ask": "tokens"}, "calc")
        if ex.inputs["params"] == 70e9:
            assert ex.answer == pytest.approx(1.4e12)
            break
    else:
        pytest.fail("no 70B model among 40 seeds")


def test_sampling_filters_remove_something_and_keep_more_than_one_token():
    for ex in exercises("sampling"):
        kept = np.count_nonzero(ex.answer)
        if ex.spec["top_k"] is not None:
            assert kept <= ex.spec["top_k"]
        if ex.spec["top_k"] or ex.spec["top_p"]:
            assert 2 <= kept < len(ex.answer)
        assert math.isclose(sum(ex.answer), 1.0)


def test_bayes_posteriors_show_the_base_rate():
    for ex in exercises("bayes-posterior"):
        assert ex.answer <= 0.95
        neglected = "prior ignored (taken as ½)"
        assert neglected in ex.slips, ex.seed  # and it is a wrong answer the grader names


def test_vanishing_chains_shrink_at_every_layer():
    # The contract fix: tanh weights of |w| = 2 used to let a layer grow the gradient.
    for difficulty in DIFFICULTIES:
        for ex in exercises_for("vanishing-gradient", difficulty, SEEDS):
            p = arrays(ex.inputs)
            f = np.tanh if ex.spec["activation"] == "tanh" else special.expit
            h = p["h0"]
            for w, b in zip(p["w"], p["b"], strict=True):
                z = w * h + b
                h = f(z)
                slope = 1 - h**2 if ex.spec["activation"] == "tanh" else h * (1 - h)
                assert abs(w * slope) < 1, (ex.seed, w, z)


def test_vanishing_and_batchnorm_state_their_loss_in_the_json():
    for ex in exercises_for("vanishing-gradient", Difficulty.CALC, SEEDS):
        if ex.spec["of"] == "L":
            k = ex.spec["layers"]
            assert ex.spec["loss"] == "half_sse"
            assert ex.spec["loss_formula"] == f"L = ½ (h{k} − y)²"
            assert ex.spec["loss_formula"] in ex.question.replace("  L", "L")
        else:
            assert "loss" not in ex.spec
    formulas = {"linear": "L = Σᵢ cᵢ yᵢ", "squared": "L = ½ Σᵢ (yᵢ − tᵢ)²"}
    for ex in exercises_for("batchnorm-backward", Difficulty.CALC, SEEDS):
        assert ex.spec["loss_formula"] == formulas[ex.spec["loss"]]


def test_grammar_of_counts():
    for seed in range(60):
        for name in ("weight-init", "param-count"):
            ex = make(name, seed, difficulty=Difficulty.HAND)
            for noun in ("input channels", "output channels", "inputs", "outputs"):
                assert f" 1 {noun}" not in ex.question, (name, seed, ex.question)


def test_close_is_what_the_slips_were_checked_with():
    # telling_slips keeps a slip only when the grader's own `close` rejects it.
    ex = make("classification-metrics", 1, {"metric": "f1"}, "calc")
    for slipped in ex.slips.values():
        assert not close(slipped, ex.answer, ex.tolerance)
