"""migrate.py's two modes, end to end: calibrate, get a translator, gate, then (corpus) copy the
collection into B's space or (query) export the translator that puts B's queries into A's space."""

from __future__ import annotations

import datetime
import tempfile
import time
from dataclasses import dataclass

import numpy as np
import torch
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from embtrans.errors import GateRefused, UserError
from embtrans.files import content_hash
from embtrans.metrics.matching import matching_per_text, matching_ranks
from embtrans.migrate.calibration import (
    Calibration,
    check_stored_vectors,
    held_out_mask,
    read_queries,
    read_text_file,
    sample_documents,
)
from embtrans.migrate.chroma_client import collection_dim, connect, open_collection, space_of
from embtrans.migrate.corpus import mark_complete, migrate_pages, target_collection
from embtrans.migrate.gate import Estimate, estimates, search_retention
from embtrans.translators.artefact import Translator, model_facts

MODES = ("corpus", "query")
CLOSED_FORMS = ("lstsq", "procrustes", "cca", "local_procrustes")
VALIDATION_SHARE = 0.1  # of the fitting texts, for the closed forms' own choices (ridge, rank, clusters)


@dataclass
class Side:
    """One model as a migration uses it: its config and, once needed, its encoder."""

    config: DictConfig
    kind: str  # how its calibration texts are embedded: passage (corpus) or query (query mode)

    @property
    def name(self) -> str:
        return self.config.name

    def encoder(self):
        return instantiate(self.config.encoder)


def migrate(cfg: DictConfig) -> None:
    if OmegaConf.is_missing(cfg, "source_collection"):
        raise UserError("say which collection to migrate: source_collection=<name> (and chroma.path=<folder> or "
                        "chroma.host=<server>)")
    if cfg.mode not in MODES:
        raise UserError(f"mode={cfg.mode} is not one of {', '.join(MODES)}")
    if cfg.model_a.name == cfg.model_b.name:
        raise UserError(f"model_a and model_b are both {cfg.model_a.name!r}: a migration moves to another model")
    client = connect(cfg.chroma)
    where = f"the Chroma server at {cfg.chroma.host}:{cfg.chroma.port}" if cfg.chroma.get("host") else \
        f"the Chroma store {cfg.chroma.path}"
    source = open_collection(client, cfg.source_collection, where)
    dim = collection_dim(source)
    if dim is not None and dim != cfg.model_a.dim:
        raise UserError(f"the collection {source.name!r} holds {dim}-dimensional vectors, but model_a={cfg.model_a.name} "
                        f"gives {cfg.model_a.dim}: set model_a to the model that embedded it")
    if cfg.mode == "corpus":
        migrate_corpus(cfg, client, source)
    else:
        export_query_translator(cfg, source)


def migrate_corpus(cfg: DictConfig, client, source) -> None:
    a, b = Side(cfg.model_a, "passage"), Side(cfg.model_b, "passage")
    calibration = corpus_calibration(cfg, source, a, b)
    translator = get_translator(cfg, calibration, a, b)
    estimated = gate(cfg, translator, calibration)
    name = cfg.target_collection or f"{source.name}.{b.name}"
    record = migration_record(cfg, source.name, translator, calibration, estimated)
    total, page, space = source.count(), int(cfg.batch_size), space_of(source)
    print(f"plan: translate {total:,} vectors of {source.name!r} ({a.name}, {cfg.model_a.dim} dims) into "
          f"{b.name}'s space ({cfg.model_b.dim} dims) and write them to {name!r}, in {-(-total // page):,} "
          f"batches of {page:,}; {expected_time(translator, source, page, space, total)}")
    refuse_below_threshold(estimated)
    if cfg.dry_run:
        print("dry run: nothing was written")
        return
    target = target_collection(client, name, record, space)

    def report(progress):
        done = progress.added + progress.present
        print(f"  {done:,} / {progress.total:,} ({progress.added:,} added, {progress.seconds:.1f} s)", flush=True)

    progress = migrate_pages(source, target, translator.translate, page, on_page=report)
    mark_complete(target, record)
    if progress.added == 0:
        print(f"{name!r} already held every one of the {progress.total:,} vectors: nothing added")
    else:
        rate = progress.added / progress.seconds if progress.seconds else float("nan")
        print(f"migrated {progress.added:,} vectors into {name!r} in {progress.seconds:.1f} s ({rate:,.0f} per second)"
              + (f"; {progress.present:,} were already there from an earlier run" if progress.present else ""))
    if cfg.export_dir:
        print(f"translator saved to {translator.save(cfg.export_dir)}")
    print(f"to switch over: search {name!r} with queries embedded by {b.name} "
          f"(client.get_collection({name!r}).query(query_embeddings=<{b.name} vectors>)); new documents are "
          f"embedded by {b.name} and added there. {source.name!r} is unchanged.")


def export_query_translator(cfg: DictConfig, source) -> None:
    """Queries embedded by B, translated into A's space, search the A collection as it is."""
    if not cfg.export_dir:
        raise UserError("mode=query exports a translator for your application to load: set export_dir=<folder>")
    if cfg.calibration.get("queries"):
        raise UserError("calibration.queries checks a migrated collection's search: it applies to mode=corpus")
    b, a = Side(cfg.model_b, "query"), Side(cfg.model_a, "query")
    texts = calibration_texts(cfg, source)
    calibration = embedded_calibration(cfg, texts, b, a, origin=texts_origin(cfg, source))
    translator = get_translator(cfg, calibration, b, a)
    estimated = gate(cfg, translator, calibration)
    refuse_below_threshold(estimated)
    if cfg.dry_run:
        print("dry run: nothing was written")
        return
    path = translator.save(cfg.export_dir)
    print(f"translator {b.name} -> {a.name} saved to {path}. In your application:\n"
          f"  from embtrans.translators.artefact import Translator\n"
          f"  translator = Translator.load({str(path)!r})\n"
          f"  collection.query(query_embeddings=translator.translate(<{b.name} query vectors>))\n"
          f"{source.name!r} stays as it is, searched with {b.name}'s queries.")


# -- calibration -------------------------------------------------------------------------------------------------------

def corpus_calibration(cfg: DictConfig, source, a: Side, b: Side) -> Calibration:
    """Corpus mode fits on the vectors it will translate: the stored ones of a sample of the collection
    (checked to be A's), against B's embeddings of the same documents; or a text file embedded by both."""
    c = cfg.calibration
    if c.texts:
        if c.get("queries"):
            raise UserError("calibration.queries names documents of the collection: leave calibration.texts unset "
                            "to calibrate on the collection's own documents")
        return embedded_calibration(cfg, read_text_file(c.texts), a, b, origin=f"the file {c.texts}")
    ids, texts, stored = sample_documents(source, int(c.size), int(c.seed))
    held_out = held_out_mask(len(texts), float(c.held_out), int(c.seed), int(c.min_texts))
    origin = f"{len(texts)} documents of {source.name} (seed {c.seed})"
    queries = read_queries(c.queries) if c.get("queries") else None
    if queries:  # their relevant documents join the held-out pool the search check runs over
        ids, texts, stored, held_out = with_relevant_documents(source, queries, ids, texts, stored, held_out)
    print(f"calibration: {len(texts):,} documents sampled from {source.name!r} (seed {c.seed}), "
          f"{int(held_out.sum()):,} held out for the gate; embedding them with {b.name} ...", flush=True)
    check_stored_vectors(stored, texts, a.encoder(), source.name)
    encoder = b.encoder()
    calibration = Calibration(texts, stored, encoder.encode(texts, b.kind), held_out, origin=origin)
    if queries:
        column = {text_id: j for j, text_id in enumerate(ids)}
        calibration.queries = encoder.encode([text for text, _ in queries], "query")
        calibration.relevant = np.zeros((len(queries), len(ids)), dtype=bool)
        for i, (_, relevant) in enumerate(queries):
            calibration.relevant[i, [column[r] for r in relevant if r in column]] = True
    return calibration


def with_relevant_documents(source, queries, ids, texts, stored, held_out):
    """The sample plus every document a calibration query names, all of those held out (never fitted on)."""
    wanted = list(dict.fromkeys(r for _, relevant in queries for r in relevant))
    sampled, named = set(ids), set(wanted)
    extra = [r for r in wanted if r not in sampled]
    got = source.get(ids=extra, include=["embeddings", "documents"]) if extra else {"ids": []}
    found = dict(zip(got["ids"], zip(got.get("documents") or [], got.get("embeddings") if extra else [])))
    if not found and not named & sampled:
        raise UserError(f"none of the documents calibration.queries names is in {source.name!r}: its "
                        "'relevant' lists must hold the collection's ids")
    new = [r for r in extra if r in found and found[r][0]]
    ids = ids + new
    texts = texts + [found[r][0] for r in new]
    stored = np.concatenate([stored, np.asarray([found[r][1] for r in new], dtype=np.float32).reshape(len(new), -1)])
    held_out = np.concatenate([held_out, np.ones(len(new), dtype=bool)])
    held_out[[i for i, text_id in enumerate(ids) if text_id in named]] = True
    return ids, texts, stored, held_out


def calibration_texts(cfg: DictConfig, source) -> list[str]:
    if cfg.calibration.texts:
        return read_text_file(cfg.calibration.texts)
    return sample_documents(source, int(cfg.calibration.size), int(cfg.calibration.seed))[1]


def texts_origin(cfg: DictConfig, source) -> str:
    return f"the file {cfg.calibration.texts}" if cfg.calibration.texts else f"documents of {source.name}"


def embedded_calibration(cfg: DictConfig, texts: list[str], frm: Side, to: Side, origin: str) -> Calibration:
    c = cfg.calibration
    held_out = held_out_mask(len(texts), float(c.held_out), int(c.seed), int(c.min_texts))
    print(f"calibration: {len(texts):,} texts from {origin}, {int(held_out.sum()):,} held out for the gate; "
          f"embedding them with {frm.name} and {to.name} ...", flush=True)
    return Calibration(texts, frm.encoder().encode(texts, frm.kind), to.encoder().encode(texts, to.kind),
                       held_out, origin=f"{len(texts)} texts of {origin}")


# -- translator and gate -----------------------------------------------------------------------------------------------

def get_translator(cfg: DictConfig, calibration: Calibration, frm: Side, to: Side) -> Translator:
    """A finished run's or a saved translator (checked to map frm -> to), or a closed form fitted on the
    sample's fitting part (arch=auto: the one of its menu that matches best on a validation part of it)."""
    given = [key for key in ("run_dir", "translator_dir") if cfg.get(key)]
    if len(given) > 1:
        raise UserError("give the translator one way: run_dir=<a finished run> or translator_dir=<a saved translator>")
    if given:
        key = given[0]
        translator = Translator.from_run(cfg[key]) if key == "run_dir" else Translator.load(cfg[key])
        made = (translator.info["model_a"]["name"], translator.info["model_b"]["name"])
        if made != (frm.name, to.name):
            raise UserError(f"{key}={cfg[key]} translates {made[0]} -> {made[1]}, and this migration needs "
                            f"{frm.name} -> {to.name}: use a translator of that pair, or arch=<closed form> to fit one here")
        return translator
    rows = calibration.fit_rows
    validation = np.zeros(len(rows), dtype=bool)
    validation[np.random.default_rng(int(cfg.calibration.seed)).choice(
        len(rows), max(1, int(len(rows) * VALIDATION_SHARE)), replace=False)] = True
    fit, val = rows[~validation], rows[validation]
    if cfg.arch.get("menu"):
        name, net, chosen = choose_closed_form(cfg.arch.menu, calibration, fit, val)
        arch = cfg.arch.menu[name].arch
    else:
        if not cfg.arch.get("closed_form"):
            raise UserError(f"arch={cfg.arch.name} is trained, not fitted: choose one of {', '.join(CLOSED_FORMS)} "
                            f"or auto, or run_dir=<a finished training run of it> (python train.py arch={cfg.arch.name} ...)")
        name, arch = cfg.arch.name, cfg.arch
        net, chosen = fit_closed_form(name, arch, calibration, fit, val)
    in_dim, out_dim = calibration.source.shape[1], calibration.target.shape[1]
    return Translator(net, {
        "net": OmegaConf.to_container(arch.net, resolve=True),
        "model_a": model_facts(OmegaConf.to_container(frm.config, resolve=True), in_dim, None),
        "model_b": model_facts(OmegaConf.to_container(to.config, resolve=True), out_dim, None),
        "source": {"arch": name, "fitted_on": calibration.origin, "fitted_texts": int(len(fit)),
                   "chosen": {k: v for k, v in (chosen or {}).items() if not isinstance(v, dict)}},
    })


def fit_closed_form(name: str, arch: DictConfig, calibration: Calibration, fit: np.ndarray,
                    val: np.ndarray) -> tuple[torch.nn.Module, dict]:
    """The closed form fitted on the fitting rows, its own choices (ridge, rank, clusters) made on ``val``."""
    from embtrans.translators.baselines import closed_form_maps

    source, target = torch.from_numpy(calibration.source), torch.from_numpy(calibration.target)
    net = closed_form_maps({name: arch}, source.shape[1], target.shape[1])[name]
    return net, net.fit(source[fit], target[fit], source[val], target[val]) or {}


def choose_closed_form(menu: DictConfig, calibration: Calibration, fit: np.ndarray,
                       val: np.ndarray) -> tuple[str, torch.nn.Module, dict]:
    """arch=auto on the calibration sample: every closed form of the menu fitted on the fitting rows, the one
    whose translations find their own native vector most often among the validation rows' (matching top-1,
    the gate's measure) kept. The gate's held-out texts play no part. Trained candidates need a training run:
    python train.py arch=auto, then run_dir=<it>."""
    closed = [name for name, entry in menu.items() if entry.arch.get("closed_form")]
    if not closed:
        raise UserError("arch=auto's menu holds no closed form to fit here: train it (python train.py arch=auto "
                        "...) and give run_dir=<that run>")
    fitted, scores = {}, {}
    for name in closed:
        net, chosen = fitted[name] = fit_closed_form(name, menu[name].arch, calibration, fit, val)
        with torch.no_grad():
            translated = net(torch.from_numpy(calibration.source[val])).numpy()
        ranks, _ = matching_ranks(translated, calibration.target[val])
        scores[name] = float(matching_per_text(ranks, top_ks=(1,))["top1_accuracy"].mean())
    best = max(closed, key=lambda name: (scores[name], -closed.index(name)))  # a tie: the earlier, simpler one
    trained = [name for name in menu if name not in closed]
    print(f"arch=auto chose {best}: matching top-1 on {len(val):,} validation texts of the fitting part "
          + ", ".join(f"{name} {score:.3f}" for name, score in scores.items())
          + (f" (trained candidates need a training run: {', '.join(trained)})" if trained else ""))
    net, chosen = fitted[best]
    return best, net, {**chosen, "auto_validation_top1": scores[best]}


def gate(cfg: DictConfig, translator: Translator, calibration: Calibration) -> list[Estimate]:
    held = calibration.held_out_rows
    translated = translator.translate(calibration.source[held])
    found = estimates(translated, calibration.target[held], cfg.gate, int(cfg.gate.replicates), int(cfg.calibration.seed))
    if calibration.queries is not None:
        found.append(search_retention(calibration.queries, translated, calibration.target[held],
                                      calibration.relevant[:, held], cfg.gate, int(cfg.calibration.seed)))
    print(f"quality gate on {len(held):,} held-out texts ({cfg.gate.level:.0%} bootstrap intervals):")
    for estimate in found:
        print(f"  {estimate.line()}")
    return found


def refuse_below_threshold(found: list[Estimate]) -> None:
    failed = [e for e in found if not e.passed]
    if failed:
        e = failed[0]
        raise GateRefused(f"migration refused: {e.name} is {e.interval.estimate:.3f} [{e.interval.low:.3f}, "
                          f"{e.interval.high:.3f}] on the held-out calibration texts, and gate.{e.key}="
                          f"{e.threshold:g} needs the lower bound at or above it; nothing was written")


def migration_record(cfg: DictConfig, source_name: str, translator: Translator, calibration: Calibration,
                     found: list[Estimate]) -> dict:
    """What the migrated collection records of how it was made (Chroma metadata: flat scalars)."""
    state = [t.detach().cpu().numpy() for t in translator.net.state_dict().values()]
    origin = translator.info.get("source", {})
    return {
        "migrated_from": source_name,
        "model_a": cfg.model_a.name,
        "model_b": cfg.model_b.name,
        "translator": str(origin.get("arch", "")) + (f" from {origin['run_dir']}" if origin.get("run_dir") else
                                                     f" fitted on {calibration.origin}"),
        "translator_fingerprint": content_hash(*state),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        **{f"gate_{e.name.replace(' ', '_').replace('-', '')}": round(e.interval.estimate, 4) for e in found},
    }


def expected_time(translator: Translator, source, page: int, space: str, total: int) -> str:
    """Translation and Chroma's add, timed on one page in a throwaway store."""
    import chromadb
    from chromadb.config import Settings

    rows = source.get(limit=min(page, total), include=["embeddings"])
    vectors = np.asarray(rows["embeddings"], dtype=np.float32)
    if not len(vectors):
        return "the collection is empty"
    started = time.perf_counter()
    translated = translator.translate(vectors)
    translate_seconds = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as scratch:
        client = chromadb.PersistentClient(scratch, settings=Settings(anonymized_telemetry=False))
        trial = client.create_collection("trial", embedding_function=None, configuration={"hnsw": {"space": space}})
        started = time.perf_counter()
        trial.add(ids=[str(i) for i in range(len(translated))], embeddings=translated)
        add_seconds = time.perf_counter() - started
    per_vector = (translate_seconds + add_seconds) / len(vectors)
    rate = len(vectors) / (translate_seconds + add_seconds)
    return f"about {per_vector * total:,.0f} s at the rate of a trial batch ({rate:,.0f} vectors per second)"
