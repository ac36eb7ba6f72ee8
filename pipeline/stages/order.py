"""What each stage takes and gives: the one table `--only`/`--skip` are checked against.

A selected stage runs only when every value it takes is given, in the same run,
by a selected stage before it, or by the runners' reports (`--from-report`,
which give `published` and `gated`). So a new source of values (the reports)
plugs in by saying what it gives, not by a special case per stage; and a stage
whose value the reports already give is not run again.

    build   -> built
    push    -> published        (pushes what the build gave, or finds it published)
    scan    published -> scanned
    gate    scanned -> gated
    promote published, gated -> promoted   (gated only when the config scans)
    deploy  published -> deployed          (and the gate's decision when there is one)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from pipeline.config.suggest import did_you_mean
from pipeline.errors import UsageError


@dataclass(frozen=True)
class Stage:
    name: str
    gives: str
    #: values this stage cannot run without
    takes: tuple[str, ...] = ()
    #: values it cannot run without when the config scans (the gate's one decision)
    takes_when_scanning: tuple[str, ...] = ()


STAGES: tuple[Stage, ...] = (
    Stage("build", "built"),
    Stage("push", "published"),
    Stage("scan", "scanned", takes=("published",)),
    Stage("gate", "gated", takes=("scanned",)),
    Stage("promote", "promoted", takes=("published",), takes_when_scanning=("gated",)),
    Stage("deploy", "deployed", takes=("published",)),
)

#: What a fan-out's final job reads from the runners' reports instead of running stages.
REPORTS_GIVE: tuple[str, ...] = ("published", "gated")

#: Why a stage needs a value, and the selection that gives it: the error names the fix.
_WHY: dict[tuple[str, str], str] = {
    ("scan", "published"): (
        "the scan stage waits for the scan of what the push stage of the same run"
        " published; run it with push (--only push,scan,gate)"
    ),
    ("gate", "scanned"): (
        "the gate judges the scan results of the same run; run it with scan"
        " (--only push,scan,gate), or set scan.enabled: false to release unscanned"
    ),
    ("promote", "gated"): (
        "promote moves the mutable tags only after the gate of the same run passed;"
        " run it with scan and gate (--only push,scan,gate,promote)"
    ),
    ("promote", "published"): (
        "promote moves the mutable tags onto what the push stage of the same run"
        " published; run it with push (--only push,scan,gate,promote), or give the"
        " runners' reports (--from-report)"
    ),
    ("deploy", "published"): (
        "the deploy stage deploys what the push stage of the same run published;"
        " run it with push (--only push,deploy), or give the runners' reports (--from-report)"
    ),
}

_BY_NAME = {s.name: s for s in STAGES}
_NAMES = tuple(_BY_NAME)


@dataclass(frozen=True)
class Selection:
    """`--only`/`--skip` as the user typed them (no `--only`: every stage).

    The plan's stages are what is left once the config drops the stages it cannot
    run (scan and gate without scanning, deploy without targets); a refusal speaks
    of what was asked, so it needs the selection as typed, not what is left.
    """

    only: frozenset[str] = field(default_factory=frozenset)
    skip: frozenset[str] = field(default_factory=frozenset)

    @property
    def stages(self) -> tuple[str, ...]:
        """The stages asked for, in run order."""
        return tuple(
            name
            for name in _NAMES
            if (not self.only or name in self.only) and name not in self.skip
        )


EVERY_STAGE = Selection()


def select(only: Sequence[str] | None, skip: Sequence[str] | None) -> Selection:
    """The selection typed as `--only`/`--skip` (None: the option was not given), or a
    UsageError (exit 2) when it names an unknown stage, names none (an empty CI variable
    must not widen a run to every stage), or leaves nothing to run."""
    for name in (*(only or ()), *(skip or ())):
        if name not in _BY_NAME:
            raise UsageError(
                f"unknown stage {name!r}; stages are {', '.join(_NAMES)}"
                + did_you_mean(name, _NAMES)
            )
    for option, given, instead in (
        ("--only", only, "run every stage"),
        ("--skip", skip, "skip none"),
    ):
        if given is not None and not given:
            raise UsageError(
                f"{option} names no stage (leave it out to {instead});"
                f" stages are {', '.join(_NAMES)}"
            )
    selection = Selection(frozenset(only or ()), frozenset(skip or ()))
    # --skip subtracts from --only (`--only build,push --skip push` builds): that is
    # what the two options did before they were checked together, and what they say.
    if not selection.stages:
        names = "every stage" if not selection.only else "every stage --only names"
        raise UsageError(
            f"--only/--skip leave no stage to run (--skip names {names}); select other stages"
        )
    return selection


def missing_inputs(
    selected: Sequence[str], *, scanning: bool, given: Sequence[str] = ()
) -> list[tuple[str, str]]:
    """(stage, value) for each value a selected stage takes that nothing gives it first."""
    have = set(given)
    missing = []
    for stage in (_BY_NAME[name] for name in selected):
        takes = stage.takes + (stage.takes_when_scanning if scanning else ())
        missing += [(stage.name, value) for value in takes if value not in have]
        have.add(stage.gives)
    return missing


def refuse(selected: Sequence[str], *, scanning: bool, given: Sequence[str] = ()) -> None:
    """UsageError (exit 2) naming the fix when a selected stage would lack an input, or
    would redo the work whose values `given` (the reports) already hold."""
    if given:
        # The reports stand for every stage up to the last one giving what they hold:
        # a final job runs only the stages after it (promote and deploy).
        last = max(i for i, s in enumerate(STAGES) if s.gives in given)
        after = {s.name for s in STAGES[last + 1 :]}
        if not set(selected) <= after:
            raise UsageError(
                "--from-report promotes and deploys what other runners published and gated;"
                f" it runs no other stage (this run asks for {','.join(selected)}):"
                " run it with --only promote,deploy (or --only deploy)"
            )
    problems = missing_inputs(selected, scanning=scanning, given=given)
    if problems:
        stage, value = problems[0]
        raise UsageError(_WHY.get((stage, value), f"the {stage} stage needs {value}"))
