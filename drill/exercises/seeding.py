"""The random generators of many exercises, seeded at once.

`numpy.random.default_rng(seed)` runs a SeedSequence over the seed (a hash in 32-bit
words) and seeds PCG64 with the words it gives: some 10–20 µs a seed, which is 5–7 % of
making an export's exercises. For seeds of one 32-bit word (every seed drill makes) the
same words come out of a few NumPy operations over all the seeds together, and the
PCG64 state they give is set on one generator, exercise after exercise. The states are
the ones NumPy makes (a test compares them over many seeds), so every exercise is the
same.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

# SeedSequence's hash constants (numpy/random/bit_generator.pyx, after O'Neill's seed_seq).
_INIT_A, _MULT_A = 0x43B0D7E5, 0x931E8875
_INIT_B, _MULT_B = 0x8B51F9DD, 0x58F38DED
_MIX_MULT_L, _MIX_MULT_R = 0xCA01F9DD, 0x4973F715
_POOL = 4  # SeedSequence's default pool of 32-bit words
_MASK32 = 0xFFFFFFFF
_MASK128 = (1 << 128) - 1
_PCG_MULT = 0x2360ED051FC65DA44385DF649FCCF645  # PCG64's 128-bit LCG multiplier


def _constants(count: int, start: int, factor: int) -> list[int]:
    """The hash constant before each of `count` hashes: it is multiplied by `factor` at
    every one, whatever the data, so the whole sequence is known in advance."""
    constants = [start]
    for _ in range(count):
        constants.append((constants[-1] * factor) & _MASK32)
    return constants


# Pool of 4, one word of entropy: 4 hashes to fill the pool, 12 to mix it; 8 output words.
_HASH_A = _constants(_POOL + _POOL * (_POOL - 1), _INIT_A, _MULT_A)
_HASH_B = _constants(2 * _POOL, _INIT_B, _MULT_B)


def _hashmix(values: np.ndarray, step: int) -> np.ndarray:
    """SeedSequence's hashmix, for the `step`-th hash: xor with the constant, multiply by
    the next one, fold the high half down (uint32 arithmetic wraps, as in C)."""
    values = (values ^ np.uint32(_HASH_A[step])) * np.uint32(_HASH_A[step + 1])
    return values ^ (values >> np.uint32(16))


def _mix(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    result = np.uint32(_MIX_MULT_L) * x - np.uint32(_MIX_MULT_R) * y
    return result ^ (result >> np.uint32(16))


def pcg64_states(seeds: Sequence[int]) -> list[tuple[int, int]]:
    """(state, increment) of `numpy.random.PCG64(seed)` for each seed, every seed in
    [0, 2³²): what SeedSequence's mix_entropy and generate_state(4, uint64) and PCG64's
    seeding compute, one seed per array element."""
    entropy = np.array(seeds, dtype=np.int64)
    if entropy.size and (entropy.min() < 0 or entropy.max() > _MASK32):
        raise ValueError("pcg64_states takes seeds of one 32-bit word, 0 to 2**32 - 1")
    words = entropy.astype(np.uint32)
    steps = iter(range(len(_HASH_A) - 1))
    pool = [_hashmix(words, next(steps))]
    pool += [_hashmix(np.zeros_like(words), next(steps)) for _ in range(_POOL - 1)]
    for source in range(_POOL):
        for target in range(_POOL):
            if source != target:
                pool[target] = _mix(pool[target], _hashmix(pool[source], next(steps)))
    out = []
    for i in range(2 * _POOL):
        value = (pool[i % _POOL] ^ np.uint32(_HASH_B[i])) * np.uint32(_HASH_B[i + 1])
        out.append((value ^ (value >> np.uint32(16))).astype(np.uint64))
    # Little-endian pairs of words make four 64-bit words: the initial state's high and
    # low halves, then the stream's.
    high, low, inc_high, inc_low = (
        (out[2 * i] | (out[2 * i + 1] << np.uint64(32))).tolist() for i in range(_POOL)
    )
    states = []
    for state_high, state_low, stream_high, stream_low in zip(
        high, low, inc_high, inc_low, strict=True
    ):
        increment = ((((stream_high << 64) | stream_low) << 1) | 1) & _MASK128
        # pcg_setseq_128_srandom_r: from state 0, one step (0 · mult + inc), add the
        # initial state, one more step.
        state = (increment + ((state_high << 64) | state_low)) & _MASK128
        states.append(((state * _PCG_MULT + increment) & _MASK128, increment))
    return states


def seeded_generators(seeds: Sequence[int]) -> Iterator[np.random.Generator]:
    """A generator in the state `numpy.random.default_rng(seed)` starts in, for each seed
    in turn: one Generator, re-seeded before it is yielded again (so use each before
    asking for the next). Seeds outside [0, 2³²) get default_rng's own."""
    one_word = [seed for seed in seeds if 0 <= seed <= _MASK32]
    states = iter(pcg64_states(one_word))
    bit_generator = np.random.PCG64(0)
    generator = np.random.Generator(bit_generator)
    for seed in seeds:
        if not 0 <= seed <= _MASK32:
            yield np.random.default_rng(seed)
            continue
        state, increment = next(states)
        bit_generator.state = {
            "bit_generator": "PCG64",
            "state": {"state": state, "inc": increment},
            "has_uint32": 0,
            "uinteger": 0,
        }
        yield generator
