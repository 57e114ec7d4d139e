from coachapp import create_app

app = create_app()
