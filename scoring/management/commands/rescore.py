from collections import Counter

from celery.exceptions import TimeoutError as ResultTimeout
from django.core.management.base import BaseCommand, CommandError

from scoring import selectors, tasks
from scoring.models import ScoringGrid
from scoring.services import BATCH_SIZE

OUTCOMES = {
    "created": "créés",
    "updated": "mis à jour",
    "unchanged": "inchangés",
    "deleted": "retirés (brouillons)",
    "skipped": "ignorés",
}

RESUME = (
    "Relancez la même commande : elle ne recalcule que ce qui a changé (les scores déjà "
    "écrits sont laissés tels quels), et le rattrapage automatique (beat, chaque minute) "
    "score de toute façon les réponses soumises qui n'ont pas de score."
)


class Command(BaseCommand):
    help = (
        "Score every submitted response with a grid version: one Celery task per batch, "
        "progress shown as batches finish. Idempotent: unchanged scores are not rewritten, so "
        "an interrupted run is resumed by running it again."
    )

    def add_arguments(self, parser):
        parser.add_argument("--grid", required=True, help="grid version, e.g. miller-2022-v1")
        parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)
        parser.add_argument(
            "--timeout",
            type=float,
            default=900,
            help="seconds to wait for each batch; longer than the broker's visibility timeout, "
            "so that a batch whose worker was killed is redelivered within it",
        )

    def handle(self, *args, grid, batch_size, timeout, **options):
        scoring_grid = ScoringGrid.objects.filter(code=grid).first()
        if scoring_grid is None:
            known = ", ".join(ScoringGrid.objects.values_list("code", flat=True)) or "aucune"
            raise CommandError(
                f"Grille « {grid} » inconnue (chargées : {known}). "
                "Chargez-la avec load_scoring_grid."
            )
        if batch_size < 1:
            raise CommandError("--batch-size doit être au moins 1.")
        ids = selectors.response_ids_to_score(scoring_grid)
        batches = [ids[start : start + batch_size] for start in range(0, len(ids), batch_size)]
        self.stdout.write(
            f"Grille « {scoring_grid.code} » : {len(ids)} réponses en {len(batches)} lot(s)."
        )
        # All batches are queued first so that several workers share them; eager mode runs
        # each one as it is queued.
        try:
            pending = [tasks.rescore_batch.delay(batch, scoring_grid.code) for batch in batches]
        except Exception as error:  # the broker is unreachable: kombu OperationalError & co.
            raise CommandError(
                f"Le serveur de tâches (Redis) est injoignable ({error}) : aucun lot n'a été "
                "envoyé. Relancez la commande quand il répond."
            ) from error
        totals: Counter[str] = Counter()
        done = 0
        unfinished: list[int] = []
        for number, (batch, result) in enumerate(zip(batches, pending, strict=True), start=1):
            try:
                counts = result.get(timeout=timeout)
            except ResultTimeout:
                unfinished.append(number)
                self.stderr.write(
                    f"  lot {number}/{len(batches)} : sans réponse après {timeout:g} s"
                )
                continue
            except Exception as error:  # the task failed (retries exhausted): say it, go on
                unfinished.append(number)
                self.stderr.write(f"  lot {number}/{len(batches)} : échec ({error})")
                continue
            totals.update(counts)
            done += len(batch)
            self.stdout.write(
                f"  lot {number}/{len(batches)} : {done}/{len(ids)} réponses — {_summary(counts)}"
            )
        if unfinished:
            raise CommandError(
                f"{len(unfinished)} lot(s) sur {len(batches)} non terminé(s) "
                f"({_summary(totals)} pour les autres). {RESUME}"
            )
        self.stdout.write(self.style.SUCCESS(f"Terminé : {_summary(totals)}."))


def _summary(counts) -> str:
    return ", ".join(
        f"{counts.get(key, 0)} {label}"
        for key, label in OUTCOMES.items()
        if counts.get(key, 0) or key in ("created", "updated", "unchanged")
    )
