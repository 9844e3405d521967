"""Excel layer: workbook builder, refresh, headless evaluation, export and the add-in."""
