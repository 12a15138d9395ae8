"""complaints."""
