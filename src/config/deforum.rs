//! Deforum's settings file, read into dreamreel's settings.
