//! The `exec` identity backend (ma1sd's exec identity store): being written (issue 16).
