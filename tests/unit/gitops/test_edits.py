"""Manifest edits, file by file: what changes, and that nothing else does (byte for byte)."""

from __future__ import annotations

import textwrap

import pytest

from pipeline.deployment import DeployError
from pipeline.gitops.edits import rewrite
from pipeline.gitops.target import NewImage

REPO = "123456789012.dkr.ecr.us-east-1.amazonaws.com/myapp/backend"
D = "sha256:" + "a" * 64
OLD_D = "sha256:" + "b" * 64
PINNED = f"{REPO}@{D}"
IMAGE = NewImage("backend", REPO, D, "1.2.3")
NO_TAG = NewImage("backend", REPO, D, None)


def y(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


# (case, file name, image, before, [(old, new), ...]): the whole expected file is `before`
# with each `old` fragment (unique in it) replaced by `new`; nothing else may differ.
CASES = [
    (
        "kustomize-newtag-becomes-digest-without-a-tag",
        "kustomization.yaml",
        NO_TAG,
        f"""
        # prod overlay
        resources:
          - ../../base   # shared
        images:
          - name: backend        # placeholder in base
            newName: {REPO}
            newTag: "1.0.0"   # pinned by release
          - name: frontend
            newTag: v9
        """,
        [('newTag: "1.0.0"   #', f"digest: {D}   #")],
    ),
    (
        "kustomize-newtag-stays-newtag-with-an-immutable-tag",
        "kustomization.yaml",
        IMAGE,
        f"""
        images:
        - name: {REPO}
          newTag: '1.0.0'
        """,
        [("'1.0.0'", "'1.2.3'")],
    ),
    (
        "kustomize-digest-is-written-and-newtag-cleared",
        "kustomization.yaml",
        NO_TAG,
        f"""
        images:
          - name: {REPO}
            digest: {OLD_D}
            newTag: old   # left behind
          - name: other
        """,
        [(OLD_D, D), ("    newTag: old   # left behind\n", "")],
    ),
    (
        "kustomize-both-keys-and-a-tag-keeps-newtag-clears-digest",
        "kustomization.yaml",
        IMAGE,
        f"""
        images:
          - name: {REPO}
            newTag: "1.0"
            digest: {OLD_D}
        """,
        [('"1.0"', '"1.2.3"'), (f"    digest: {OLD_D}\n", "")],
    ),
    (
        "kustomize-the-dropped-key-opens-the-entry",
        "kustomization.yaml",
        NO_TAG,
        f"""
        images:
          - newTag: old
            name: {REPO}
            digest: {OLD_D}
        """,
        [("- newTag: old", f"- digest: {D}"), (f"    digest: {OLD_D}\n", "")],
    ),
    (
        "kustomize-an-entry-without-a-pin-gets-a-digest",
        "kustomization.yaml",
        IMAGE,
        f"""
        images:
        - name: backend
          newName: {REPO}  # where it lives
        resources: [deployment.yaml]
        """,
        [("# where it lives\n", f"# where it lives\n  digest: {D}\n")],
    ),
    (
        "kustomize-an-entry-at-the-end-of-a-file-without-a-final-newline",
        "kustomization.yaml",
        IMAGE,
        f"images:\n- name: {REPO}",
        [(f"name: {REPO}", f"name: {REPO}\n  digest: {D}\n")],
    ),
    (
        "kustomize-flow-style-entry",
        "kustomization.yaml",
        NO_TAG,
        f"""
        images:
          - {{name: {REPO}, newTag: "1.0"}}   # flow
        """,
        [('newTag: "1.0"}', f"digest: {D}}}")],
    ),
    (
        "kustomize-matched-by-newname-never-by-a-different-name",
        "kustomization.yaml",
        NO_TAG,
        f"""
        images:
          - name: {REPO}
            newName: elsewhere.example.com/backend
            newTag: "1"
        """,
        [],
    ),
    (
        "kustomize-by-kind-in-any-file-name",
        "overlay.yaml",
        NO_TAG,
        f"""
        apiVersion: kustomize.config.k8s.io/v1beta1
        kind: Kustomization
        images:
          - name: {REPO}
            digest: {OLD_D}
        """,
        [(OLD_D, D)],
    ),
    (
        "deployment-containers-not-sidecars-quotes-kept",
        "deploy.yaml",
        IMAGE,
        f"""
        apiVersion: apps/v1
        kind: Deployment
        metadata: {{name: backend}}  # flow map kept
        spec:
          template:
            spec:
              containers:
              - name: app
                image: "{REPO}:1.0"   # the app
              - name: worker
                image: '{REPO}-worker:1.0'
              - name: envoy
                image: envoyproxy/envoy:v1.30
        """,
        [(f'"{REPO}:1.0"', f'"{PINNED}"')],
    ),
    (
        "multi-document-statefulset-cronjob-pod",
        "all.yaml",
        IMAGE,
        f"""
        kind: StatefulSet
        spec:
          template:
            spec:
              containers: [{{name: db, image: postgres:16}}, {{name: app, image: {REPO}}}]
        ---
        # a cron job
        kind: CronJob
        spec:
          jobTemplate:
            spec:
              template:
                spec:
                  containers:
                    - name: job
                      image: {REPO}@{OLD_D}
        ...
        ---
        kind: Pod
        spec:
          containers:
          - {{name: app, image: '{REPO}:0.1'}}
        """,
        [
            (f"image: {REPO}}}]", f"image: {PINNED}}}]"),
            (f"image: {REPO}@{OLD_D}", f"image: {PINNED}"),
            (f"'{REPO}:0.1'", f"'{PINNED}'"),
        ],
    ),
    (
        "helm-repository-and-tag",
        "values.yaml",
        IMAGE,
        f"""
        # Default values
        image:
          repository: {REPO}  # ECR
          tag: "1.0"
          pullPolicy: IfNotPresent
        sidecar:
          image:
            repository: envoyproxy/envoy
            tag: v1
        """,
        [('tag: "1.0"', 'tag: "1.2.3"')],
    ),
    (
        "helm-registry-repository-tag-and-digest",
        "values.yaml",
        IMAGE,
        """
        worker:
          image:
            registry: 123456789012.dkr.ecr.us-east-1.amazonaws.com
            repository: myapp/backend
            tag: 1.0
            digest: ""
        """,
        [("tag: 1.0", "tag: 1.2.3"), ('digest: ""', f'digest: "{D}"')],
    ),
    (
        "helm-digest-only-chart-without-a-tag",
        "values.yaml",
        NO_TAG,
        f"""
        image:
          repository: {REPO}
          tag: "1.0"
          digest: {OLD_D}
        """,
        [(OLD_D, D)],
    ),
    (
        "helm-plain-image-string",
        "values.yaml",
        IMAGE,
        f"""
        backend:
          image: {REPO}:1.0
          replicas: 2
        """,
        [(f"{REPO}:1.0", PINNED)],
    ),
    (
        "a-plain-new-tag-that-would-read-as-a-number-is-quoted",
        "values.yaml",
        NewImage("backend", REPO, D, "1.10"),
        f"""
        image:
          repository: {REPO}
          tag: v1
        """,
        [("tag: v1", 'tag: "1.10"')],
    ),
    (
        "look-alike-repositories-are-never-touched",
        "deploy.yaml",
        IMAGE,
        f"""
        containers:
          - image: {REPO}-sidecar:1
          - image: {REPO.rsplit("/", 1)[0]}/other/backend:1
          - image: "{{{{ .Values.image }}}}"
        command: ["echo", "{REPO}:1"]
        """,
        [],
    ),
    (
        "anchors-are-edited-where-they-are-defined",
        "values.yaml",
        IMAGE,
        f"""
        base: &img {REPO}:1.0
        a: {{image: *img}}
        b:
          image: *img
        """,
        [(f"&img {REPO}:1.0", f"&img {PINNED}")],
    ),
    (
        "markers-only-the-marked-lines-and-fields",
        "values.yaml",
        IMAGE,
        f"""
        image:
          repository: {REPO} # {{"$imagepolicy": "flux-system:backend:name"}}
          tag: "1.0" # {{"$imagepolicy": "flux-system:backend:tag"}}
        unmarked:
          image: {REPO}:1.0
        front:
          image: registry.example.com/frontend:2 # {{"$imagepolicy": "flux-system:frontend"}}
        """,
        [('tag: "1.0"', 'tag: "1.2.3"')],
    ),
    (
        "markers-whole-reference-owned-by-its-current-repository",
        "deploy.yaml",
        IMAGE,
        f"""
        containers:
          - name: app
            image: {REPO}:0.9 # {{"$imagepolicy": "apps:api"}}
          - name: other
            image: other/thing:1 # {{"$imagepolicy": "apps:thing"}}
        """,
        [(f"{REPO}:0.9", PINNED)],
    ),
    (
        "markers-policy-named-after-the-image-and-a-digest-field",
        "values.yaml",
        IMAGE,
        """
        image:
          name: somewhere/else # {"$imagepolicy": "flux-system:backend:name"}
          digest: "" # {"$imagepolicy": "flux-system:backend:digest"}
        """,
        [("somewhere/else", REPO), ('digest: ""', f'digest: "{D}"')],
    ),
    (
        "markers-for-other-images-leave-the-file-alone",
        "values.yaml",
        IMAGE,
        f"""
        front:
          image: registry.example.com/frontend:2 # {{"$imagepolicy": "flux-system:frontend"}}
        back:
          image: {REPO}:1.0
        """,
        [],
    ),
]


@pytest.mark.parametrize(
    ("name", "image", "before", "replacements"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_rewrite(
    name: str, image: NewImage, before: str, replacements: list[tuple[str, str]]
) -> None:
    text = y(before) if before.startswith("\n") else before
    expected = text
    for old, new in replacements:
        assert expected.count(old) == 1, f"{old!r} must be unique in the case"
        expected = expected.replace(old, new)
    after = rewrite(text, image, name).text
    assert after == expected
    # a second run changes nothing
    assert rewrite(after, image, name).text == after


def test_previous_values_are_reported_in_file_order() -> None:
    text = y(f"""
        a: {{image: {REPO}:1.0}}
        b: {{image: {REPO}:0.9}}
        c: {{image: {REPO}:1.0}}
        """)
    assert rewrite(text, IMAGE, "x.yaml").previous == (f"{REPO}:1.0", f"{REPO}:0.9")


def test_a_tag_field_without_an_immutable_tag_is_an_error_naming_the_file_and_line() -> None:
    text = y(f"""
        image:
          repository: {REPO}
          tag: "1.0"
        """)
    with pytest.raises(DeployError, match=r"^values.yaml:3: a field takes a tag, but backend has"):
        rewrite(text, NO_TAG, "values.yaml")


def test_a_tag_marker_without_an_immutable_tag_is_an_error_too() -> None:
    text = 'tag: "1.0" # {"$imagepolicy": "flux-system:backend:tag"}\n'
    with pytest.raises(DeployError, match=r"^values.yaml:1: a field takes a tag"):
        rewrite(text, NO_TAG, "values.yaml")


def test_invalid_yaml_is_an_error_with_its_place() -> None:
    with pytest.raises(DeployError, match=r"^bad.yaml:2:\d+: "):
        rewrite("a: [1, 2\nb: c\n", IMAGE, "bad.yaml")


def test_a_file_without_this_image_comes_back_identical() -> None:
    text = "# nothing here\nkind: ConfigMap\ndata: {a: b}\n"
    assert rewrite(text, IMAGE, "cm.yaml").text == text


def test_a_reference_already_pinned_to_this_digest_is_left_as_written() -> None:
    text = f"image: {REPO}:1.2.3@{D}  # readable and pinned\n"
    assert rewrite(text, IMAGE, "deploy.yaml").text == text


def test_crlf_line_endings_stay_crlf_even_where_a_line_is_added() -> None:
    text = f"images:\r\n  - name: {REPO}\r\n  - name: other\r\n    newTag: v1\r\n"
    after = rewrite(text, NO_TAG, "kustomization.yaml").text
    assert after == (
        f"images:\r\n  - name: {REPO}\r\n    digest: {D}\r\n  - name: other\r\n    newTag: v1\r\n"
    )


def test_the_references_found_count_those_already_pinned_too() -> None:
    pinned = f"image: {PINNED}\n"
    assert rewrite(pinned, IMAGE, "deploy.yaml").found
    kustomization = f"images:\n  - name: {REPO}\n    digest: {D}\n"
    assert rewrite(kustomization, NO_TAG, "kustomization.yaml").found
    assert rewrite(f"image:\n  repository: {REPO}\n  tag: '1.2.3'\n", IMAGE, "values.yaml").found
    marked = f'image: {PINNED} # {{"$imagepolicy": "flux-system:backend"}}\n'
    assert rewrite(marked, IMAGE, "values.yaml").found
    assert not rewrite("kind: ConfigMap\ndata: {image: other/repo:1}\n", IMAGE, "cm.yaml").found
    theirs = 'image: other/front:2 # {"$imagepolicy": "flux-system:frontend"}\n'
    assert not rewrite(theirs, IMAGE, "values.yaml").found


def test_references_by_another_name_of_the_repository_are_pointed_at_the_pushed_one() -> None:
    # pushed through a host override (a mirror, the sandbox): files naming ECR's own host
    # are this image's too, and get the reference that was pushed
    pushed = "127.0.0.1:5101/myapp/backend"
    image = NewImage("backend", pushed, D, "1.2.3", also=(REPO,))
    text = f"image: {REPO}:1.0\nimages:\n  - name: {REPO}\n    newTag: '1.0'\n"
    after = rewrite(text, image, "kustomization.yaml")
    assert after.found
    assert after.text == f"image: {pushed}@{D}\nimages:\n  - name: {REPO}\n    newTag: '1.2.3'\n"


def test_what_the_file_held_is_reported_as_whole_references_for_the_guard() -> None:
    old = f"sha256:{'b' * 64}"
    kustomization = f"images:\n  - name: backend\n    newName: {REPO}\n    digest: {old}\n"
    assert rewrite(kustomization, IMAGE, "kustomization.yaml").running == (f"{REPO}@{old}",)
    helm = "image:\n  registry: 123456789012.dkr.ecr.us-east-1.amazonaws.com\n"
    helm += "  repository: myapp/backend\n  tag: '1.0'\n"
    assert rewrite(helm, IMAGE, "values.yaml").running == (f"{REPO}:1.0",)
    fields = f"a: {{image: {REPO}:1.0}}\nb: {{image: {REPO}:1.0}}\n"
    assert rewrite(fields, IMAGE, "x.yaml").running == (f"{REPO}:1.0",)
    marked = (
        f'repository: {REPO} # {{"$imagepolicy": "flux-system:backend:name"}}\n'
        'tag: "1.0" # {"$imagepolicy": "flux-system:backend:tag"}\n'
    )
    assert rewrite(marked, IMAGE, "values.yaml").running == (f"{REPO}:1.0",)
