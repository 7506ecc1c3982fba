"""Reissue a MyChart access code (form: access_code_reissue_form)."""
from typing import Text

from actions import backend_client
from actions.identity import IdentityFormValidation, IdentityRequestAction


class ValidateAccessCodeReissueForm(IdentityFormValidation):
    request_intent = "request_access_code"

    def name(self) -> Text:
        return "validate_access_code_reissue_form"


class ReissueAccessCode(IdentityRequestAction):
    send = staticmethod(backend_client.reissue_access_code)
    done_message = "access_code_reissued"
    phone_contact_message = "access_code_no_text_message"
    form = "access_code_reissue_form"

    def name(self) -> Text:
        return "action_reissue_access_code"
