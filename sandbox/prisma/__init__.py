"""The Prisma Schema Language subset that learners edit: parse, validate, format, calculate SQL."""
