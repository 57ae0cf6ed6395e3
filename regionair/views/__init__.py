"""What each page shows, as plain frames and sentences, built without Streamlit (testable on their own)."""
