"""Prisma-compatible migrations: diff two SQL schemas, render Prisma's SQL, keep the history."""
