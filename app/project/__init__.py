"""A workspace as Prisma's project folder: download it as a zip (`export`), bring one in (`imports`)."""
