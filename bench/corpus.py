"""Where the Germany-scale reference corpus generator is: `shared/bench/`
beside the repository, or beside the folder that holds its worktrees."""
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def make_corpus_script():
    candidates = [os.path.join(ROOT, *up, "shared", "bench", "make_corpus.py")
                  for up in (("..",), ("..", ".."))]
    return next((c for c in candidates if os.path.isfile(c)), candidates[0])
