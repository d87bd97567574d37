"""Licence terms and the conflicts they imply, written by the ptmgraph developers from the licences' own texts.

Each licence is reduced to the few terms that decide reuse: may it be used commercially, does it restrict uses
(the RAIL family, Llama, Gemma), is it copyleft or share-alike. A project whose licence grants what a model it
loads forbids has a conflict; so does a derivative that declares fewer restrictions than its parent.
Licences this table does not know are reported as unknown, never guessed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass

from ptmgraph import domain as d
from ptmgraph.graph.store import GraphStore


@dataclass(frozen=True)
class Terms:
    commercial: bool = True
    use_restrictions: bool = False
    copyleft: bool = False  # strong copyleft: GPL, AGPL
    share_alike: bool = False  # CC BY-SA
    open_source: bool = False  # an OSI licence: grants use for any purpose, commercial included


PERMISSIVE = Terms(open_source=True)
COPYLEFT = Terms(open_source=True, copyleft=True)
NON_COMMERCIAL = Terms(commercial=False)
RESTRICTED_USE = Terms(use_restrictions=True)

TERMS: dict[str, Terms] = {
    **{k: PERMISSIVE for k in ("mit", "apache-2.0", "bsd", "bsd-2-clause", "bsd-3-clause", "isc", "zlib", "mit-0",
                                "unlicense", "cc0-1.0", "0bsd", "afl-3.0", "bsl-1.0", "boost-1.0", "wtfpl",
                                "python-2.0", "postgresql", "upl-1.0", "ms-pl", "artistic-2.0", "cc-by-4.0",
                                "cc-by-3.0", "cc-by-2.0", "odc-by", "pddl", "ecl-2.0")},
    **{k: COPYLEFT for k in ("gpl", "gpl-2.0", "gpl-3.0", "agpl-3.0", "gpl-2.0-plus", "gpl-3.0-plus",
                              "agpl-3.0-plus", "lgpl-lr")},
    # Weak copyleft covers changes to the licensed files only; a project that loads such a model is not bound.
    **{k: PERMISSIVE for k in ("lgpl-2.1", "lgpl-3.0", "mpl-2.0", "epl-2.0", "lgpl-2.1-plus")},
    **{k: Terms(open_source=False, share_alike=True) for k in ("cc-by-sa-4.0", "cc-by-sa-3.0")},
    **{k: NON_COMMERCIAL for k in ("cc-by-nc-4.0", "cc-by-nc-3.0", "cc-by-nc-2.0", "cc-by-nc-sa-4.0",
                                    "cc-by-nc-sa-3.0", "cc-by-nc-nd-4.0", "cc-by-nc-nd-3.0")},
    **{k: RESTRICTED_USE for k in ("openrail", "openrail++", "creativeml-openrail-m", "bigscience-openrail-m",
                                    "bigscience-bloom-rail-1.0", "bigcode-openrail-m", "llama2", "llama3",
                                    "llama3.1", "llama3.2", "llama3.3", "gemma", "deepfloyd-if-license")},
}


def terms(licence: str | None) -> Terms | None:
    return TERMS.get(licence.strip().lower()) if licence else None


def conflict(project: Terms, model: Terms) -> str | None:
    """Why a project under ``project`` terms cannot simply load a model under ``model`` terms, if it cannot."""
    if not model.commercial and project.commercial:
        return "the model forbids commercial use; the project's licence permits it"
    if model.use_restrictions and not project.use_restrictions:
        return "the model restricts how it may be used; the project's licence passes on no such restriction"
    if model.copyleft and not project.copyleft:
        return "the model is copyleft; the project's licence is not"
    if model.share_alike and not (project.share_alike or project.copyleft):
        return "the model is share-alike; the project's licence is not"
    return None


def drift(child: Terms, parent: Terms) -> str | None:
    """A derivative that declares fewer restrictions than its parent carries (parent terms still bind it)."""
    if not parent.commercial and child.commercial:
        return "the parent forbids commercial use; the derivative's licence permits it"
    if parent.use_restrictions and not child.use_restrictions:
        return "the parent restricts use; the derivative's licence drops those restrictions"
    if parent.copyleft and not child.copyleft:
        return "the parent is copyleft; the derivative's licence is not"
    return None


USES = ("MATCH (r:Repo)-[:USES]->(m:Model) WHERE m.license IS NOT NULL AND r.licenses IS NOT NULL "
        "RETURN DISTINCT r.id, r.licenses, m.id, m.license")
LINEAGE = ("MATCH (c:Model)-[e:DERIVED_FROM]->(p:Model) WHERE c.license IS NOT NULL AND p.license IS NOT NULL "
           "AND e.provenance <> 'name-inferred' RETURN DISTINCT c.id, c.license, p.id, p.license, e.relation")


def _flag_id(*parts: str) -> str:
    return "LIC-" + hashlib.sha1("|".join(p.casefold() for p in parts).encode()).hexdigest()[:12]


def detect(store: GraphStore) -> Iterator[d.Flag]:
    """License-conflict flags: on a repository, per model it loads against its licence; on a derivative model,
    per parent or family root whose restrictions it drops (name-inferred edges are not evidence enough)."""
    for repo, repo_licences, model, model_licence in store.query(USES).rows:
        model_terms = terms(model_licence)
        for repo_licence in repo_licences or ():
            project_terms = terms(repo_licence)
            if model_terms is None or project_terms is None:
                continue
            why = conflict(project_terms, model_terms)
            if why:
                yield d.Flag(_flag_id(repo, model, repo_licence), repo, "license-conflict", "high",
                             f"{repo} ({repo_licence}) loads {model} ({model_licence}): {why}", "ptmgraph-licenses",
                             json.dumps({"repo_license": repo_licence, "model": model, "model_license": model_licence,
                                         "rule": why}, sort_keys=True),
                             subject_kind=d.SubjectKind.REPO)
    for child, child_licence, parent, parent_licence, relation in store.query(LINEAGE).rows:
        child_terms, parent_terms = terms(child_licence), terms(parent_licence)
        if child_terms is None or parent_terms is None:
            continue
        why = drift(child_terms, parent_terms)
        if why:
            yield d.Flag(_flag_id(child, parent), child, "license-conflict", "medium",
                         f"{child} declares {child_licence} but is a {relation} of {parent} ({parent_licence}): {why}",
                         "ptmgraph-licenses",
                         json.dumps({"license": child_licence, "parent": parent, "parent_license": parent_licence,
                                     "relation": relation, "rule": why}, sort_keys=True))
