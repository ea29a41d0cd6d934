"""The yearly county implementation report (各旗县区每年11月底前向市残工委报送工作落实情况)."""
