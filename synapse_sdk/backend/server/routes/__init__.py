"""One router per resource; ``app.create_app`` includes each with the token dependency."""
