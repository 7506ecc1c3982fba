"""Login recovery: password reset links and username reminders.

A completed reset also unlocks an account locked after too many failed
attempts, so the lockout path ends in the password reset form too.
"""
from typing import Text

from actions import backend_client
from actions.identity import IdentityFormValidation, IdentityRequestAction


class ValidatePasswordResetForm(IdentityFormValidation):
    request_intent = "request_password_reset"

    def name(self) -> Text:
        return "validate_password_reset_form"


class ValidateUsernameReminderForm(IdentityFormValidation):
    request_intent = "request_username_reminder"

    def name(self) -> Text:
        return "validate_username_reminder_form"


class SendPasswordReset(IdentityRequestAction):
    send = staticmethod(backend_client.send_password_reset)
    done_message = "password_reset_sent"
    form = "password_reset_form"

    def name(self) -> Text:
        return "action_send_password_reset"


class SendUsernameReminder(IdentityRequestAction):
    send = staticmethod(backend_client.send_username_reminder)
    done_message = "username_reminder_sent"
    form = "username_reminder_form"

    def name(self) -> Text:
        return "action_send_username_reminder"
