"""Code exercises: "implement it in NumPy", graded on fresh random tests.

- `registry`   the exercises by name, without importing them (deck checks stay cheap)
- `spec`       CodeExercise, Case, Slip: what an exercise is
- `support`    expected values from the engine (checked by central differences), draws
- `numerics`, `layers`, `norms`, `conv`, `sequence`, `optim`, `training`, `modern`
               the exercises, one module per group
- `harness`    the program that runs a submission in its own process; the wire format
- `runner`     running a file under limits (`python -I`, time, memory), or trusted source
- `grading`    each test passed or failed, the first failure explained, known slips named
- `checker`    build a seed's tests, run, grade: what `drill code check` and study call
- `worksheet`  the exercises as a Markdown worksheet, reference solutions as the key

Expected values are computed in drill's process, with drill's engine; a submission never
sees them. Part of `exercises`: may import `engine`, `model`, `errors` and numpy.
"""
