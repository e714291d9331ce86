"""Progress per learner: lessons visited, exercises passed, the Continue target, a private resume link."""
