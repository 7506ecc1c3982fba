"""How bot/cli.py starts Rasa: the command line must survive any token."""
from pathlib import Path

from rasa.__main__ import create_argument_parser

from bot.cli import rasa_service


def test_rasa_reads_a_token_that_starts_with_a_dash(tmp_path):
    """token_urlsafe gives such a token one time in 64; Rasa then refused to start."""
    service = rasa_service(Path("models/m.tar.gz"), 5005, Path("endpoints.yml"),
                           {"RASA_TOKEN": "-hl3x_Q"}, tmp_path / "rasa.log")
    run_arguments = service.argv[service.argv.index("run"):]
    parsed = create_argument_parser().parse_args(run_arguments)
    assert parsed.auth_token == "-hl3x_Q"
    assert parsed.enable_api and parsed.port == 5005
