"""`qa chat`: a read-answer loop that keeps the model loaded, reading follow-ups with the
earlier turns, as `llm chat` does. Turns live in memory; the HTTP service keeps stored sessions."""

from __future__ import annotations

import contextlib
import sys
from typing import TextIO

from qa.answering import Answerer, AskResponse, InvalidQuestionError
from qa.chat import HISTORY_TURNS
from qa.cli_help import EXIT_ANSWERED, EXIT_INTERRUPTED
from qa.cli_output import render_response, use_colour
from qa.conversation import Turn

PROMPT = "qa> "
COMMANDS_QUIT = {"/quit", "/exit", "/q"}
COMMAND_NEW = "/new"


def _enable_history() -> None:
    """Up/down recall of earlier questions (GNU readline, where Python has it)."""
    # Importing it is what makes input() keep a history; Windows Pythons have none.
    with contextlib.suppress(ImportError):
        import readline  # noqa: F401


def _turn(response: AskResponse) -> Turn:
    return Turn(
        question=response.question,
        resolved_question=response.resolved_question,
        answers=[answer.text for answer in response.answers],
    )


def _read(interactive: bool) -> str | None:
    """One line of input, or None at its end."""
    try:
        return input(PROMPT) if interactive else sys.stdin.readline() or None
    except EOFError:
        return None


def run_chat(
    answerer: Answerer, *, as_json: bool, top_k: int, no_color: str, out: TextIO = sys.stdout
) -> int:
    """Answer questions from stdin until it ends or the user quits."""
    interactive = sys.stdin.isatty()
    colour = use_colour(out, no_color)
    if interactive:
        _enable_history()
        print("Ask about the documents. /new forgets the conversation, /quit leaves.", file=out)
    history: list[Turn] = []
    try:
        while (line := _read(interactive)) is not None:
            question = line.strip()
            if not question:
                continue
            if question in COMMANDS_QUIT:
                break
            if question == COMMAND_NEW:
                history.clear()
                print("(a new conversation)", file=sys.stderr)
                continue
            try:
                response = answerer.ask(question, top_k=top_k, history=history)
            except InvalidQuestionError as error:
                print(f"qa: {error}", file=sys.stderr)
                continue
            history = [*history, _turn(response)][-HISTORY_TURNS:]
            if as_json:
                print(response.model_dump_json(), file=out, flush=True)
            else:
                print(render_response(response, colour), file=out, flush=True)
                if interactive:
                    print(file=out)
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return EXIT_INTERRUPTED
    return EXIT_ANSWERED
