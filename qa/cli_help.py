"""What `qa --help` says beyond the options: exit statuses, examples, environment variables."""

from __future__ import annotations

# Exit statuses, the same for every command, so a script can tell an abstention from a failure
# without parsing --json.
EXIT_ANSWERED = 0
EXIT_NO_ANSWER = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

EXIT_STATUSES = """\
exit status:
  0    answered (or the command succeeded)
  1    no answer: the documents do not say (qa ask); a figure fell below the baseline (qa eval)
  2    usage or input error: a bad option, an empty question, no index, an unreachable database
  130  interrupted (Ctrl-C)"""

ENVIRONMENT = """\
environment (every setting is in qa/settings.py; QA_ is the prefix):
  QA_CORPUS_DIR          documents folder (default corpus/)
  QA_INDEX_DIR           index folder (default index/)
  QA_READER_MODEL_PATH   the span reader model folder (default models/reader)
  QA_MODEL_PATH          the embedding model folder (default: the bundled MiniLM)
  QA_MIN_ANSWER_SCORE    abstain below this confidence (default: the model's calibration)
  QA_HOST, QA_PORT       where `qa serve` listens (default 127.0.0.1:8000)
  QA_API_KEY(S)          keys the HTTP API asks for (default: none, open)
  QA_DATABASE_URL        sessions store: postgresql://... (default: SQLite beside the index)
  NO_COLOR               set to anything: no colours on a terminal"""

MAIN_EPILOG = f"""\
examples:
  qa index                               build or update the index from corpus/
  qa ask "Who designed the Harbour Tower?"
  qa ask --json "Who designed it?" | jq .answers[0].text
  qa chat                                ask and follow up, the model loaded once
  qa serve --port 8080                   chat page at http://127.0.0.1:8080/
  qa eval                                gold-set report in eval/runs/ (untracked)

{EXIT_STATUSES}

{ENVIRONMENT}"""

ASK_EPILOG = f"""\
examples:
  qa ask "When was the Old Stone Bridge built?"
  qa ask --json "Which cities had a station?"
  qa ask "Who founded the festival?" || echo "the documents do not say"

{EXIT_STATUSES}"""

CHAT_EPILOG = """\
Type a question and press Enter; follow-ups ("Who built it?") are read with the earlier turns.
Up and down arrows recall earlier questions. /new starts a fresh conversation; /quit, Ctrl-D or
Ctrl-C leave. With stdin not a terminal, one question is read per line, without prompts.

examples:
  qa chat
  printf 'Who designed the Harbour Tower?\\nWhen was it completed?\\n' | qa chat --json

exit status: 0 when the input ends or on /quit, 130 on Ctrl-C, 2 on a usage error."""
