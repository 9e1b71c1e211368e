"""The canonical sampler/schedule table and its resolver (exifdata_analytics/names/).

Every spelling the design names resolves as described; every (sampler, scheduler) pair our
parsers store for the peer corpus and the ComfyUI templates corpus resolves to a known sampler
(literal cases below, and live from ../shared when it is present); the CSVs are consistent."""
from __future__ import annotations

import csv
import dataclasses
import shutil
from pathlib import Path

import pytest

from exifdata_analytics.names import (NameTableError, SamplerName, automatic_schedules, canonical_sampler,
                                      canonical_samplers, canonical_schedules, sampler_spellings,
                                      schedule_spellings, spelling_key)
from exifdata_analytics.names import samplers as samplers_module
from tests.conftest import PEER_CORPUS, SHARED_DIR, rows

TABLE_DIR = Path(samplers_module.__file__).parent
COMFY_CORPUS = SHARED_DIR / "corpus" / "comfy-templates"


def table(name: str) -> list[dict[str, str]]:
    with open(TABLE_DIR / name, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def resolved(sampler, scheduler=None, karras=None) -> tuple:
    r = canonical_sampler(sampler, scheduler, karras)
    return r.sampler, r.schedule


# --- the spellings named in the design ---------------------------------------------------------

@pytest.mark.parametrize("spelling", ["Euler a", "euler_ancestral", "euler_a", "k_euler_ancestral",
                                      "Euler A", "k_euler_a", "EulerAncestralDiscreteScheduler"])
def test_one_ancestral_euler_however_it_is_spelled(spelling):
    assert canonical_sampler(spelling) == SamplerName("Euler a", None, True, False)


@pytest.mark.parametrize("sampler, scheduler, karras", [
    ("DPM++ 2M Karras", None, None),  # A1111 before 1.9: sampler and schedule in one name
    ("DPM++ 2M", "Karras", None),  # A1111 1.9+: Schedule type
    ("dpmpp_2m", "karras", None),  # ComfyUI
    ("dpmpp_2m_k", None, None),  # InvokeAI
    ("k_dpmpp_2m_ka", None, None),  # A1111 alias
    ("DPMSolverMultistepScheduler", None, True),  # diffusers + use_karras_sigmas
])
def test_one_sampler_plus_one_schedule_however_it_is_spelled(sampler, scheduler, karras):
    assert canonical_sampler(sampler, scheduler, karras) == SamplerName("DPM++ 2M", "Karras", True, True)


def test_a_karras_flag_false_adds_nothing():
    assert resolved("EulerDiscreteScheduler", None, False) == ("Euler", None)


@pytest.mark.parametrize("name", ["Euler a", "Euler", "DPM++ 2M", "DPM++ 2M SDE", "DPM++ SDE", "DPM++ 3M SDE",
                                  "DPM2 a", "LMS", "Heun", "DDIM", "PLMS", "UniPC", "LCM", "DEIS", "Restart"])
def test_the_display_vocabulary_is_a1111s(name):
    assert canonical_sampler(name) == SamplerName(name, None, True, False)
    assert name in canonical_samplers()


@pytest.mark.parametrize("spelling, schedule", [
    ("Karras", "Karras"), ("karras", "Karras"), ("Normal", "Normal"), ("normal", "Normal"),
    ("Exponential", "Exponential"), ("Simple", "Simple"), ("simple", "Simple"),
    ("SGM Uniform", "SGM Uniform"), ("sgm_uniform", "SGM Uniform"), ("SGMUniform", "SGM Uniform"),
    ("Beta", "Beta"), ("Align Your Steps", "Align Your Steps"), ("align_your_steps", "Align Your Steps"),
    ("Polyexponential", "Polyexponential"), ("ddim_uniform", "DDIM uniform"), ("DDIM", "DDIM uniform"),
    ("KL Optimal", "KL Optimal"), ("kl_optimal", "KL Optimal"), ("linear_quadratic", "Linear quadratic"),
    ("Uniform", "Normal"), ("native", "Native"), ("sd_turbo", "Turbo"), ("turbo", "Turbo"),
])
def test_schedules(spelling, schedule):
    assert canonical_sampler("Euler", spelling) == SamplerName("Euler", schedule, True, True)
    assert schedule in canonical_schedules()


@pytest.mark.parametrize("sampler, expected", [
    # ComfyUI variants: _gpu and _RF are the same algorithm, CFG++/SDE/ancestral are not
    ("dpmpp_2m_sde_gpu", "DPM++ 2M SDE"), ("dpmpp_sde_gpu", "DPM++ SDE"), ("dpmpp_3m_sde_gpu", "DPM++ 3M SDE"),
    ("dpmpp_2m_sde_heun_gpu", "DPM++ 2M SDE Heun"), ("euler_ancestral_RF", "Euler a"),
    ("dpmpp_2s_ancestral_RF", "DPM++ 2S a"), ("euler_cfg_pp", "Euler CFG++"), ("Euler CFG++", "Euler CFG++"),
    ("euler_ancestral_cfg_pp", "Euler a CFG++"), ("dpmpp_2m_cfg_pp", "DPM++ 2M CFG++"),
    ("dpmpp_2s_ancestral_cfg_pp", "DPM++ 2S a CFG++"), ("dpmpp_sde", "DPM++ SDE"), ("dpmpp_2m_sde", "DPM++ 2M SDE"),
    ("dpm_2_ancestral", "DPM2 a"), ("dpmpp_2s_ancestral", "DPM++ 2S a"), ("uni_pc", "UniPC"), ("uni_pc_bh2", "UniPC"),
    ("res_multistep_ancestral_cfg_pp", "Res Multistep a CFG++"), ("sa_solver_pece", "SA-Solver PECE"),
    ("ddim_cfgpp", "DDIM CFG++"), ("sample_dpmpp_2m", "DPM++ 2M"),
    # InvokeAI, NovelAI, Civitai, SD.Next, Easy Diffusion
    ("dpmpp_3m", "DPM++ 3M"), ("dpmpp_2s", "DPM++ 2S"), ("kdpm_2_a", "DPM2 a"), ("k_dpmpp_2s_ancestral", "DPM++ 2S a"),
    ("ddim_v3", "DDIM"), ("k_dpmpp_2m_sde", "DPM++ 2M SDE"), ("LCM", "LCM"), ("tcd", "TCD"), ("DPM SDE", "DPM++ SDE"),
    ("dpm2_a", "DPM2 a"), ("unipc_snr_2", "UniPC"),
])
def test_samplers_of_every_generator(sampler, expected):
    assert canonical_sampler(sampler) == SamplerName(expected, None, True, False)


@pytest.mark.parametrize("sampler, expected", [
    ("dpmpp_3m_k", ("DPM++ 3M", "Karras")), ("unipc_k", ("UniPC", "Karras")), ("euler_k", ("Euler", "Karras")),
    ("DPM++ SDE Karras", ("DPM++ SDE", "Karras")), ("DPM++ 2M SDE Exponential", ("DPM++ 2M SDE", "Exponential")),
    ("DPM++ 3M SDE Exponential", ("DPM++ 3M SDE", "Exponential")), ("LMS Karras", ("LMS", "Karras")),
    ("k_dpmpp_2m_sde_heun_exp", ("DPM++ 2M SDE Heun", "Exponential")),
    # Draw Things: Trailing is trailing timestep spacing, i.e. SGM Uniform
    ("Euler A Trailing", ("Euler a", "SGM Uniform")), ("UniPC Trailing", ("UniPC", "SGM Uniform")),
    ("DDIM Trailing", ("DDIM", "SGM Uniform")), ("DPM++ 2M AYS", ("DPM++ 2M", "Align Your Steps")),
    # Forge, SD.Next
    ("DPM++ 2M Turbo", ("DPM++ 2M", "Turbo")), ("Euler A SGMUniform", ("Euler a", "SGM Uniform")),
    ("Euler SGM", ("Euler", "SGM Uniform")), ("EDMEulerScheduler", ("Euler", "Karras")),
    # ComfyUI Image Saver and Civitai combine a sampler and a schedule in one spelling
    ("euler_simple", ("Euler", "Simple")), ("dpmpp_2m_karras", ("DPM++ 2M", "Karras")),
    ("dpmpp_2m_sde_gpu_karras", ("DPM++ 2M SDE", "Karras")), ("Euler a SGM Uniform", ("Euler a", "SGM Uniform")),
    ("DPM++ 2M DDIM Uniform", ("DPM++ 2M", "DDIM uniform")), ("dpm_2_ancestral_karras", ("DPM2 a", "Karras")),
])
def test_spellings_that_imply_a_schedule(sampler, expected):
    assert resolved(sampler) == expected
    assert canonical_sampler(sampler).schedule_known


def test_the_explicit_scheduler_wins_over_the_implied_one():
    assert resolved("DPM++ 2M Karras", "Exponential") == ("DPM++ 2M", "Exponential")
    assert resolved("DPM++ 2M Karras", "Automatic") == ("DPM++ 2M", "Karras")
    assert resolved("dpmpp_2m_k", None, False) == ("DPM++ 2M", "Karras")
    assert resolved("DPMSolverMultistepScheduler", "exponential", True) == ("DPM++ 2M", "Exponential")


def test_automatic_is_the_samplers_default_when_a1111_declares_one():
    assert resolved("DPM++ 2M", "Automatic") == ("DPM++ 2M", "Karras")
    assert resolved("DPM++ 3M SDE", "Automatic") == ("DPM++ 3M SDE", "Exponential")
    assert resolved("Euler a", "Automatic") == ("Euler a", "Normal")  # the model's own sigmas
    assert canonical_sampler("DDIM", "Automatic") == SamplerName("DDIM", "Automatic", True, True)
    assert canonical_sampler("My Sampler", "automatic") == SamplerName("My Sampler", "Automatic", False, True)
    assert automatic_schedules()["DPM++ 2M SDE"] == "Exponential"


@pytest.mark.parametrize("value", [None, "", "   ", "\t\n"])
def test_blank_inputs_are_none(value):
    assert canonical_sampler(value, value) == SamplerName(None, None, False, False)


def test_placeholders_name_nothing():
    assert canonical_sampler("Undefined", "None") == SamplerName(None, None, False, False)
    assert canonical_sampler("Euler", "null") == SamplerName("Euler", None, True, False)


def test_unknown_spellings_pass_through_trimmed():
    assert canonical_sampler("  My Sampler \t", " my sched ") == SamplerName("My Sampler", "my sched", False, False)
    assert canonical_sampler("Euler", "weird") == SamplerName("Euler", "weird", True, False)
    assert canonical_sampler("dpmpp_2m_k", "weird") == SamplerName("DPM++ 2M", "weird", True, False)
    assert canonical_sampler("euler_nonsense") == SamplerName("euler_nonsense", None, False, False)


def test_spellings_match_regardless_of_case_and_runs_of_blanks():
    assert resolved("  dpm++   2m KARRAS ") == ("DPM++ 2M", "Karras")
    assert resolved("EULER A", "SGM   uniform") == ("Euler a", "SGM Uniform")
    assert spelling_key("  DPM++  2M\tKarras ") == "dpm++ 2m karras"


def test_a_result_resolves_to_itself_again():
    for sampler in canonical_samplers():
        assert canonical_sampler(sampler) == SamplerName(sampler, None, True, False)
    for schedule in canonical_schedules():  # DDIM: Automatic stays Automatic for it
        assert resolved("DDIM", schedule) == ("DDIM", schedule)


def test_results_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        canonical_sampler("Euler").sampler = "x"


# --- what our parsers store for the real images -------------------------------------------------

# SELECT generator, sampler, scheduler, COUNT(*) FROM images GROUP BY 1,2,3 over both corpora.
CORPUS_PAIRS = [
    # peer corpus
    ("A1111", "DPM++ 2M", "Karras", ("DPM++ 2M", "Karras")),
    ("A1111", "Euler", "Automatic", ("Euler", "Normal")),
    ("A1111", "Euler a", None, ("Euler a", None)),
    ("A1111", "UniPC", None, ("UniPC", None)),
    ("Civitai", "Euler a", None, ("Euler a", None)),
    ("ComfyUI", "dpmpp_sde", "normal", ("DPM++ SDE", "Normal")),
    ("ComfyUI", "euler_ancestral", "karras", ("Euler a", "Karras")),
    ("ComfyUI", "euler_ancestral", "normal", ("Euler a", "Normal")),
    ("ComfyUI", "euler_simple", None, ("Euler", "Simple")),
    ("ComfyUI", "sample_dpmpp_2m", "normal", ("DPM++ 2M", "Normal")),
    ("ComfyUI", "sample_dpmpp_sde", "normal", ("DPM++ SDE", "Normal")),
    ("ComfyUI", "uni_pc_bh2", "normal", ("UniPC", "Normal")),
    ("EasyReforge", "LCM", "SGM Uniform", ("LCM", "SGM Uniform")),
    ("Fooocus", "dpmpp_2m_sde_gpu", "karras", ("DPM++ 2M SDE", "Karras")),
    ("Forge", "Euler", "Karras", ("Euler", "Karras")),
    ("Forge Classic", "DPM++ 2M", "Karras", ("DPM++ 2M", "Karras")),
    ("Forge Neo", "Euler a", "Automatic", ("Euler a", "Normal")),
    ("HuggingFace Space", "DPM++ 2M Karras", None, ("DPM++ 2M", "Karras")),
    ("InvokeAI", "euler", None, ("Euler", None)),
    ("InvokeAI", "euler_a", None, ("Euler a", None)),
    ("InvokeAI", "k_lms", None, ("LMS", None)),
    ("NovelAI", "k_euler_ancestral", None, ("Euler a", None)),
    ("NovelAI", "k_euler_ancestral", "karras", ("Euler a", "Karras")),
    ("RuinedFooocus", "dpmpp_2m_sde_gpu", "karras", ("DPM++ 2M SDE", "Karras")),
    ("SD.Next", "DDIM", "exponential", ("DDIM", "Exponential")),
    ("SD.Next", "Euler a", "karras", ("Euler a", "Karras")),
    ("Stability Matrix", "euler_ancestral", "karras", ("Euler a", "Karras")),
    ("SwarmUI", "euler_ancestral", "karras", ("Euler a", "Karras")),
    ("TensorArt", "euler_ancestral", "karras", ("Euler a", "Karras")),
    ("reForge", "DPM++ 2M", "Karras", ("DPM++ 2M", "Karras")),
    # ComfyUI templates corpus
    ("ComfyUI", "dpmpp_2m", "karras", ("DPM++ 2M", "Karras")),
    ("ComfyUI", "dpmpp_2m", "normal", ("DPM++ 2M", "Normal")),
    ("ComfyUI", "dpmpp_sde", "simple", ("DPM++ SDE", "Simple")),
    ("ComfyUI", "euler", "beta", ("Euler", "Beta")),
    ("ComfyUI", "euler", "normal", ("Euler", "Normal")),
    ("ComfyUI", "euler", "sgm_uniform", ("Euler", "SGM Uniform")),
    ("ComfyUI", "euler", "simple", ("Euler", "Simple")),
    ("ComfyUI", "euler_ancestral", "sd_turbo", ("Euler a", "Turbo")),
    ("ComfyUI", "lcm", "normal", ("LCM", "Normal")),
    ("ComfyUI", "uni_pc", "simple", ("UniPC", "Simple")),
    ("ComfyUI", "uni_pc_bh2", "normal", ("UniPC", "Normal")),
]


@pytest.mark.parametrize("generator, sampler, scheduler, expected", CORPUS_PAIRS)
def test_the_pairs_our_parsers_store_for_the_real_images(generator, sampler, scheduler, expected):
    r = canonical_sampler(sampler, scheduler)
    assert (r.sampler, r.schedule) == expected, generator
    assert r.sampler_known and (r.schedule_known or scheduler is None), generator


@pytest.fixture(scope="module")
def corpus_pairs(tmp_path_factory):
    from exifdata_analytics.filler import FillOptions, fill

    if shutil.which("exiftool") is None:
        pytest.skip("exiftool not installed")
    found = set()
    for corpus in (PEER_CORPUS, COMFY_CORPUS):
        if not corpus.is_dir():
            pytest.skip(f"{corpus} absent")
        db_path = tmp_path_factory.mktemp("names") / "corpus.db"
        fill(FillOptions(root=str(corpus), recursive=True, db_path=db_path, workers=2))
        found |= {(r["generator"], r["sampler"], r["scheduler"])
                  for r in rows(db_path, "SELECT DISTINCT generator, sampler, scheduler FROM images")}
    return found


def test_every_pair_stored_for_the_corpora_resolves_to_a_known_sampler(corpus_pairs):
    unknown = [(g, s, sch) for g, s, sch in sorted(corpus_pairs, key=str) if s is not None
               and not (canonical_sampler(s, sch).sampler_known
                        and (sch is None or canonical_sampler(s, sch).schedule_known))]
    assert not unknown


# --- the tables themselves ----------------------------------------------------------------------

@pytest.mark.parametrize("name, column", [("samplers.csv", "spelling"), ("schedules.csv", "spelling"),
                                          ("automatic.csv", "sampler")])
def test_no_spelling_is_listed_twice(name, column):
    keys = [spelling_key(row[column]) for row in table(name)]
    assert len(keys) == len(set(keys)), sorted(k for k in keys if keys.count(k) > 1)


@pytest.mark.parametrize("name, column", [("samplers.csv", "sampler"), ("samplers.csv", "schedule"),
                                          ("schedules.csv", "schedule"), ("automatic.csv", "schedule")])
def test_every_canonical_value_is_spelled_one_way(name, column):
    by_key: dict[str, set[str]] = {}
    for row in table(name):
        if row[column]:
            by_key.setdefault(spelling_key(row[column]), set()).add(row[column])
    assert {k: v for k, v in by_key.items() if len(v) > 1} == {}


def test_the_tables_refer_to_each_others_canonical_values():
    schedules = {row["schedule"] for row in table("schedules.csv") if row["schedule"]}
    samplers = {row["sampler"] for row in table("samplers.csv") if row["sampler"]}
    assert {row["schedule"] for row in table("samplers.csv") if row["schedule"]} <= schedules
    assert {row["sampler"] for row in table("automatic.csv")} <= samplers
    assert {row["schedule"] for row in table("automatic.csv")} <= schedules
    assert all(row["tools"] for row in table("samplers.csv") + table("schedules.csv"))
    assert len(sampler_spellings()) == len(table("samplers.csv"))
    assert len(schedule_spellings()) == len(table("schedules.csv"))
    assert sampler_spellings()["DPM++ 2M Karras"] == ("DPM++ 2M", "Karras")
    assert schedule_spellings()["ddim_uniform"] == "DDIM uniform"


def test_a_malformed_table_is_refused_with_a_message():
    keyed = samplers_module._keyed
    with pytest.raises(NameTableError, match="listed twice"):
        keyed("samplers.csv", {"Euler a": ("Euler a", None), "EULER  A": ("Euler a", None)},
              canonical_of=lambda v: v[0], itself=lambda n: (n, None))
    with pytest.raises(NameTableError, match="spelled two ways"):
        keyed("samplers.csv", {"euler_a": ("Euler a", None), "k_euler_a": ("Euler A", None)},
              canonical_of=lambda v: v[0], itself=lambda n: (n, None))
