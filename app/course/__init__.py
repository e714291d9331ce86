"""The course: lessons loaded from `lessons/`, rendered to HTML, served as pages."""
