"""Migration Lab, the web app: course pages, the sandbox panel, exercises and grading."""
